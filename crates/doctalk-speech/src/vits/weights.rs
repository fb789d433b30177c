//! A VITS network's weights by PyTorch module path, taken out of an ONNX export.
//!
//! Exports keep most parameter names (`dec.ups.0.weight`), but the exporter renames the weights it
//! folded (a weight-normalised convolution becomes `onnx::Conv_8240`, the phoneme embedding may be
//! called `sid`). The graph still says which node used which tensor, and node names are module paths
//! (`/flow/flows.0/enc/in_layers.0/Conv`), so each convolution's weight is found through its node.
//! The same nodes give each convolution's dilation and stride.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

use super::onnx::{Graph, Node};
use doctalk_models::{ModelError, Result};

/// How a convolution is configured: read from an export's graph, or set by the loader that knows
/// the architecture (a PyTorch checkpoint holds only tensors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConvAttrs {
    pub(crate) dilation: usize,
    pub(crate) stride: usize,
    pub(crate) groups: usize,
    /// Padding on each side (only trusted for transposed convolutions: exporters sometimes move a
    /// convolution's padding into a separate `Pad` node).
    pub(crate) pad: usize,
    pub(crate) transposed: bool,
}

impl ConvAttrs {
    pub(crate) const PLAIN: ConvAttrs = ConvAttrs {
        dilation: 1,
        stride: 1,
        groups: 1,
        pad: 0,
        transposed: false,
    };
}

/// The tensors of one network, by module path.
pub(crate) struct Weights {
    tensors: HashMap<String, Tensor>,
    convs: HashMap<String, ConvAttrs>,
    path: PathBuf,
}

impl Weights {
    pub(crate) fn from_graph(graph: Graph, path: &Path, device: &Device) -> Result<Self> {
        let mut aliases: HashMap<String, String> = HashMap::new();
        let mut convs = HashMap::new();
        for node in &graph.nodes {
            let module = module_path(&node.name);
            match node.op_type.as_str() {
                "Conv" | "ConvTranspose" if node.inputs.len() >= 2 => {
                    aliases.insert(format!("{module}.weight"), node.inputs[1].clone());
                    if let Some(bias) = node.inputs.get(2).filter(|b| !b.is_empty()) {
                        aliases.insert(format!("{module}.bias"), bias.clone());
                    }
                    convs.insert(module, conv_attrs(node));
                }
                "Gather" if module.ends_with(".emb") && !node.inputs.is_empty() => {
                    aliases.insert(format!("{module}.weight"), node.inputs[0].clone());
                }
                // The duration predictor's affine flow: the export folds exp(-logs) into a constant.
                "Mul"
                    if module.ends_with("dp.flows.0")
                        && node.inputs.len() == 2
                        && graph.initializers.contains_key(&node.inputs[1]) =>
                {
                    aliases.insert(format!("{module}.exp_neg_logs"), node.inputs[1].clone());
                }
                _ => {}
            }
        }

        let mut tensors = HashMap::new();
        let to_tensor = |name: &str| -> Result<Tensor> {
            let init = &graph.initializers[name];
            Ok(Tensor::from_slice(&init.data, init.dims.as_slice(), device)?)
        };
        for name in graph.initializers.keys() {
            if !name.starts_with('/') && !name.starts_with("onnx::") {
                tensors.insert(name.clone(), to_tensor(name)?);
            }
        }
        for (alias, source) in &aliases {
            if graph.initializers.contains_key(source) {
                tensors.insert(alias.clone(), to_tensor(source)?);
            }
        }
        if let Some(logs) = tensors.get("dp.flows.0.logs") {
            let folded = logs.neg()?.exp()?;
            tensors.insert("dp.flows.0.exp_neg_logs".into(), folded);
        }
        Ok(Weights {
            tensors,
            convs,
            path: path.to_owned(),
        })
    }

    /// The state dict of a PyTorch checkpoint (`torch.save`, zip format), under `key` when the
    /// file holds more than the weights (`{"model": state_dict, ...}`). Weight-normalised layers
    /// are folded into plain weights, whichever way they were stored (`weight_g` / `weight_v`, or
    /// `parametrizations.weight.original0` / `original1`).
    pub(crate) fn from_pth(path: &Path, key: Option<&str>, device: &Device) -> Result<Self> {
        let corrupt = |reason: String| ModelError::CorruptFile {
            path: path.to_owned(),
            reason,
        };
        // candle's pickle reader panics on some damaged files (found by fuzzing: too few
        // arguments to a tensor's rebuild call, an 8+-byte LONG1): contained here (kept off
        // stderr) and reported as a damaged checkpoint.
        let read = doctalk_contain::contained(|| candle_core::pickle::read_all_with_key(path, key)).map_err(
            |panic| {
                corrupt(format!(
                    "not a readable PyTorch checkpoint: its pickle is malformed ({panic})"
                ))
            },
        )?;
        let named = read.map_err(|e| corrupt(format!("not a readable PyTorch checkpoint: {e}")))?;
        if named.is_empty() {
            return Err(corrupt(format!(
                "no tensors{}",
                key.map(|k| format!(" under {k:?}")).unwrap_or_default()
            )));
        }
        let mut raw = HashMap::new();
        for (name, tensor) in named {
            let tensor = tensor.to_dtype(candle_core::DType::F32)?.to_device(device)?;
            raw.insert(name, tensor);
        }
        let mut tensors = HashMap::new();
        for (name, tensor) in &raw {
            let pair = [
                (".weight_g", ".weight_v"),
                (
                    ".parametrizations.weight.original0",
                    ".parametrizations.weight.original1",
                ),
            ]
            .into_iter()
            .find_map(|(g, v)| name.strip_suffix(g).map(|module| (module, v)));
            if let Some((module, v_suffix)) = pair {
                let v = raw
                    .get(&format!("{module}{v_suffix}"))
                    .ok_or_else(|| corrupt(format!("{name} has no matching {module}{v_suffix}")))?;
                tensors.insert(format!("{module}.weight"), fold_weight_norm(tensor, v)?);
            } else if !name.ends_with(".weight_v") && !name.ends_with(".parametrizations.weight.original1") {
                tensors.insert(name.clone(), tensor.clone());
            }
        }
        Ok(Weights {
            tensors,
            convs: HashMap::new(),
            path: path.to_owned(),
        })
    }

    /// Sets how the convolution at `module` runs (checkpoints without a graph).
    pub(crate) fn set_conv(&mut self, module: &str, attrs: ConvAttrs) {
        self.convs.insert(module.to_owned(), attrs);
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The tensor at `name`, or an error naming the file and the missing parameter.
    pub(crate) fn get(&self, name: &str) -> Result<Tensor> {
        self.tensors
            .get(name)
            .cloned()
            .ok_or_else(|| ModelError::CorruptFile {
                path: self.path.clone(),
                reason: format!(
                    "the model file has no parameter {name} (not a Piper voice or VITS-style checkpoint?)"
                ),
            })
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// How many numbered children `prefix.0`, `prefix.1`, … have a tensor whose path continues
    /// with `suffix` (layers of a stack).
    pub(crate) fn count(&self, prefix: &str, suffix: &str) -> usize {
        (0..)
            .take_while(|i| self.has(&format!("{prefix}.{i}{suffix}")))
            .count()
    }

    /// The convolution at module path `module`.
    pub(crate) fn conv(&self, module: &str) -> Result<Conv> {
        let weight = self.get(&format!("{module}.weight"))?;
        let bias_name = format!("{module}.bias");
        let bias = self.has(&bias_name).then(|| self.get(&bias_name)).transpose()?;
        let attrs = self.convs.get(module).copied().unwrap_or(ConvAttrs::PLAIN);
        let (_, _, kernel) = weight.dims3()?;
        if kernel == 0 {
            return Err(ModelError::CorruptFile {
                path: self.path.clone(),
                reason: format!("{module}.weight is a convolution with an empty kernel"),
            });
        }
        let padding = if attrs.transposed {
            attrs.pad
        } else {
            attrs.dilation * (kernel - 1) / 2
        };
        Ok(Conv {
            weight,
            bias,
            padding,
            dilation: attrs.dilation,
            stride: attrs.stride,
            groups: attrs.groups,
            transposed: attrs.transposed,
            cpu_params: std::sync::OnceLock::new(),
        })
    }
}

/// Weight normalisation undone: `w = g · v / ‖v‖`, the norm over every axis but the first.
fn fold_weight_norm(g: &Tensor, v: &Tensor) -> Result<Tensor> {
    let rows = v.dim(0)?;
    let norm = v.reshape((rows, ()))?.sqr()?.sum_keepdim(1)?.sqrt()?;
    let scale = (g.reshape((rows, 1))? / norm)?;
    let mut shape = vec![rows];
    shape.resize(v.rank(), 1);
    Ok(v.broadcast_mul(&scale.reshape(shape)?)?)
}

/// `/flow/flows.0/enc/in_layers.0/Conv` → `flow.flows.0.enc.in_layers.0`.
fn module_path(node_name: &str) -> String {
    let trimmed = node_name.trim_start_matches('/');
    let module = trimmed.rsplit_once('/').map_or("", |(m, _)| m);
    module.replace('/', ".")
}

fn conv_attrs(node: &Node) -> ConvAttrs {
    let first = |key: &str, default: i64| {
        node.ints
            .get(key)
            .and_then(|v| v.first().copied())
            .unwrap_or(default)
            .max(0) as usize
    };
    ConvAttrs {
        dilation: first("dilations", 1).max(1),
        stride: first("strides", 1).max(1),
        groups: first("group", 1).max(1),
        pad: first("pads", 0),
        transposed: node.op_type == "ConvTranspose",
    }
}

/// Signals at least this long go through the direct CPU convolution; shorter ones (the text
/// encoder, the flow) are faster through candle's matrix multiply, where per-row overhead is paid
/// once. Grouped (depthwise) convolutions always take the direct path: candle runs one convolution
/// per group and concatenates them.
const DIRECT_MIN_LEN: usize = 1024;

/// A 1-D convolution with the export's settings; "same" padding for the forward ones.
pub(crate) struct Conv {
    weight: Tensor,
    bias: Option<Tensor>,
    padding: usize,
    dilation: usize,
    stride: usize,
    groups: usize,
    transposed: bool,
    /// Weights and bias as plain vectors for the direct CPU convolution, made on first use.
    cpu_params: std::sync::OnceLock<(Vec<f32>, Option<Vec<f32>>)>,
}

impl Conv {
    /// `x`: `[batch, channels, time]`.
    pub(crate) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = if self.transposed {
            // candle's fast CPU path (col2im) needs zero padding: pad by trimming afterwards.
            let full = x.conv_transpose1d(&self.weight, 0, 0, self.stride, self.dilation, self.groups)?;
            let len = full.dim(2)? - 2 * self.padding;
            full.narrow(2, self.padding, len)?
        } else if x.device().is_cpu()
            && self.stride == 1
            && x.dim(0)? == 1
            && (x.dim(2)? >= DIRECT_MIN_LEN || self.groups > 1)
        {
            return self.forward_direct(x);
        } else {
            x.conv1d(
                &self.weight,
                self.padding,
                self.stride,
                self.dilation,
                self.groups,
            )?
        };
        Ok(match &self.bias {
            Some(bias) => y.broadcast_add(&bias.reshape((1, (), 1))?)?,
            None => y,
        })
    }

    /// The CPU path (see `direct_conv`): weights and bias are copied out once and cached.
    fn forward_direct(&self, x: &Tensor) -> Result<Tensor> {
        let (_, c_in, len) = x.dims3()?;
        let (c_out, _, k) = self.weight.dims3()?;
        let (w, b) = self.cpu_params.get_or_init(|| {
            let w = self
                .weight
                .flatten_all()
                .and_then(|t| t.to_vec1::<f32>())
                .unwrap_or_default();
            let b = self.bias.as_ref().and_then(|b| b.to_vec1::<f32>().ok());
            (w, b)
        });
        let input: Vec<f32> = x.flatten_all()?.to_vec1()?;
        let (y, len_out) = super::direct_conv::conv1d(
            &input,
            c_in,
            len,
            w,
            c_out,
            k,
            b.as_deref(),
            self.padding,
            self.dilation,
            self.groups,
        );
        Ok(Tensor::from_vec(y, (1, c_out, len_out), x.device())?)
    }

    pub(crate) fn stride(&self) -> usize {
        self.stride
    }

    pub(crate) fn out_channels(&self) -> Result<usize> {
        let (a, b, _) = self.weight.dims3()?;
        Ok(if self.transposed { b * self.groups } else { a })
    }
}

#[cfg(test)]
mod tests {
    use super::module_path;

    #[test]
    fn node_names_become_module_paths() {
        assert_eq!(
            module_path("/flow/flows.0/enc/in_layers.0/Conv"),
            "flow.flows.0.enc.in_layers.0"
        );
        assert_eq!(module_path("/enc_p/emb/Gather"), "enc_p.emb");
        assert_eq!(module_path("Conv_12"), "");
    }
}
