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
use crate::error::{ModelError, Result};

/// How a convolution node was configured in the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ConvAttrs {
    dilation: usize,
    stride: usize,
    groups: usize,
    /// Padding on each side (only trusted for transposed convolutions: exporters sometimes move a
    /// convolution's padding into a separate `Pad` node).
    pad: usize,
    transposed: bool,
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

    /// The tensor at `name`, or an error naming the file and the missing parameter.
    pub(crate) fn get(&self, name: &str) -> Result<Tensor> {
        self.tensors
            .get(name)
            .cloned()
            .ok_or_else(|| ModelError::CorruptFile {
                path: self.path.clone(),
                reason: format!("the voice has no parameter {name} (not a Piper/VITS export?)"),
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
        let attrs = self.convs.get(module).copied().unwrap_or(ConvAttrs {
            dilation: 1,
            stride: 1,
            groups: 1,
            pad: 0,
            transposed: false,
        });
        let (_, _, kernel) = weight.dims3()?;
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
