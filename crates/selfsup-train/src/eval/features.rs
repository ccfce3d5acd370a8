//! [`extract_views`]: frozen features of a backbone.

use burn::module::Module;
use selfsup_data::{ImageSource, InputSpec};
use selfsup_models::backbone::Backbone;

use crate::batch::stack_images;
use crate::error::{Result, TrainError};
use crate::eval::{Features, View};

/// Runs `backbone` (in inference mode) once over the images `indices` of `source`, each
/// prepared as `input` says (the method's own size, channels and preprocessing), and returns
/// the features of every view, in order: probing several blocks costs one forward pass, not
/// one per block.
pub fn extract_views(
    backbone: &Backbone,
    source: &dyn ImageSource,
    indices: &[usize],
    input: &InputSpec,
    views: &[View],
    batch_size: usize,
) -> Result<Vec<Features>> {
    let blocks = backbone.block_channels().len();
    if let Some(view) = views.iter().find(|v| v.block >= blocks) {
        return Err(TrainError::InvalidConfig {
            what: "block".into(),
            reason: format!(
                "block {} does not exist: the backbone has blocks 1 to {blocks}",
                view.block + 1
            ),
        });
    }
    let backbone = backbone.valid();
    let device = backbone.devices().into_iter().next().unwrap_or_default();
    let mut data = vec![Vec::new(); views.len()];
    let mut dims = vec![0; views.len()];
    let mut labels = Vec::with_capacity(indices.len());
    for chunk in indices.chunks(batch_size.max(1)) {
        let mut images = Vec::with_capacity(chunk.len());
        for &i in chunk {
            let item = source.get(i)?;
            images.push(input.prepare(&item.image));
            labels.push(item.label);
        }
        let outputs = backbone.forward_blocks(stack_images(&images, &device));
        for (v, view) in views.iter().enumerate() {
            let pooled = view.pool(outputs[view.block].clone());
            dims[v] = pooled.dims()[1];
            data[v].extend(
                pooled
                    .into_data()
                    .convert::<f32>()
                    .try_into_vec::<f32>()
                    .map_err(|e| TrainError::Loader(format!("{e:?}")))?,
            );
        }
    }
    Ok(data
        .into_iter()
        .zip(dims)
        .map(|(data, dim)| Features {
            data,
            dim,
            labels: labels.clone(),
        })
        .collect())
}
