//! [`TaskState`]: what a method computed from the data (a permutation set, a colour prior,
//! cluster assignments), saved beside the weights as `task.safetensors`.

use std::collections::BTreeMap;
use std::path::Path;

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use crate::error::{Result, TrainError};

/// One named array of task state.
#[derive(Clone, Debug, PartialEq)]
pub enum StateArray {
    /// 32-bit floats.
    F32 {
        /// Shape.
        shape: Vec<usize>,
        /// Row-major values.
        data: Vec<f32>,
    },
    /// 64-bit integers.
    I64 {
        /// Shape.
        shape: Vec<usize>,
        /// Row-major values.
        data: Vec<i64>,
    },
}

/// Named arrays a task saves with its checkpoints and reads back on resume and evaluation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaskState {
    arrays: BTreeMap<String, StateArray>,
}

fn missing(name: &str, kind: &str) -> TrainError {
    TrainError::Task {
        method: "task state".into(),
        reason: format!("no {kind} array '{name}' in the checkpoint's task state"),
    }
}

impl TaskState {
    /// Whether there is nothing to save.
    pub fn is_empty(&self) -> bool {
        self.arrays.is_empty()
    }

    /// The arrays' names.
    pub fn names(&self) -> Vec<String> {
        self.arrays.keys().cloned().collect()
    }

    /// Adds (or replaces) a float array.
    pub fn put_f32(&mut self, name: &str, shape: Vec<usize>, data: Vec<f32>) {
        self.arrays
            .insert(name.to_string(), StateArray::F32 { shape, data });
    }

    /// Adds (or replaces) an integer array.
    pub fn put_i64(&mut self, name: &str, shape: Vec<usize>, data: Vec<i64>) {
        self.arrays
            .insert(name.to_string(), StateArray::I64 { shape, data });
    }

    /// A float array and its shape.
    pub fn f32(&self, name: &str) -> Result<(&[usize], &[f32])> {
        match self.arrays.get(name) {
            Some(StateArray::F32 { shape, data }) => Ok((shape, data)),
            _ => Err(missing(name, "f32")),
        }
    }

    /// An integer array and its shape.
    pub fn i64(&self, name: &str) -> Result<(&[usize], &[i64])> {
        match self.arrays.get(name) {
            Some(StateArray::I64 { shape, data }) => Ok((shape, data)),
            _ => Err(missing(name, "i64")),
        }
    }

    /// Writes the arrays as a safetensors file.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = self
            .arrays
            .iter()
            .map(|(name, array)| match array {
                StateArray::F32 { shape, data } => (
                    name.clone(),
                    Dtype::F32,
                    shape.clone(),
                    data.iter().flat_map(|v| v.to_le_bytes()).collect(),
                ),
                StateArray::I64 { shape, data } => (
                    name.clone(),
                    Dtype::I64,
                    shape.clone(),
                    data.iter().flat_map(|v| v.to_le_bytes()).collect(),
                ),
            })
            .collect();
        let views = bytes
            .iter()
            .map(|(name, dtype, shape, data)| {
                TensorView::new(*dtype, shape.clone(), data).map(|v| (name.as_str(), v))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| TrainError::checkpoint(path, format!("task state: {e}")))?;
        let file = safetensors::serialize(views, None)
            .map_err(|e| TrainError::checkpoint(path, format!("task state: {e}")))?;
        std::fs::write(path, file).map_err(|e| TrainError::io(path, e))
    }

    /// Reads a file written by [`save`](Self::save).
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| TrainError::io(path, e))?;
        let file = SafeTensors::deserialize(&bytes)
            .map_err(|e| TrainError::checkpoint(path, format!("unreadable task state: {e}")))?;
        let mut state = TaskState::default();
        for (name, view) in file.tensors() {
            let shape = view.shape().to_vec();
            match view.dtype() {
                Dtype::F32 => state.put_f32(
                    &name,
                    shape,
                    view.data()
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect(),
                ),
                Dtype::I64 => state.put_i64(
                    &name,
                    shape,
                    view.data()
                        .chunks_exact(8)
                        .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
                        .collect(),
                ),
                other => {
                    return Err(TrainError::checkpoint(
                        path,
                        format!("task state '{name}' has type {other:?}, expected F32 or I64"),
                    ));
                }
            }
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_a_safetensors_file() {
        let mut state = TaskState::default();
        state.put_f32("prior", vec![3], vec![0.25, 0.5, 0.25]);
        state.put_i64("perms", vec![2, 2], vec![0, 1, 1, 0]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("task.safetensors");
        state.save(&path).unwrap();
        let back = TaskState::load(&path).unwrap();
        assert_eq!(back, state);
        assert_eq!(back.i64("perms").unwrap().0, &[2, 2]);
        assert!(back.f32("perms").is_err());
    }
}
