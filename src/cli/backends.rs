//! `selfsup backends`.

use selfsup::train::BackendKind;

pub fn run() -> anyhow::Result<()> {
    for backend in BackendKind::ALL {
        let status = match backend.device() {
            Ok(device) => std::panic::catch_unwind(|| {
                let x = burn::tensor::Tensor::<1>::from_floats([1.0, 2.0, 3.0], &device);
                x.sum().into_scalar::<f32>()
            })
            .map_or_else(
                |_| "compiled in, but its device failed to start".to_string(),
                |sum| format!("compiled in, sum([1, 2, 3]) = {sum}"),
            ),
            Err(e) => e.to_string(),
        };
        println!("{:<8} {status}", backend.name());
    }
    Ok(())
}
