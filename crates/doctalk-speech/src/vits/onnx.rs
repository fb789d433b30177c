//! Just enough of the ONNX file format to take a model's weights and its convolutions' settings out
//! of it: a protobuf wire-format reader for `ModelProto → GraphProto → {NodeProto, TensorProto}`.
//!
//! Piper ships its voices only as ONNX exports. DocTalk runs the network itself in candle, so it
//! needs the initializers (the weights) and, for each node, its name, type, inputs and integer
//! attributes (a convolution's dilation and padding); everything else in the file is skipped.
//! A hand-written reader keeps protobuf code generation (and `protoc`) out of this crate's build.

use std::collections::HashMap;

/// Why a file is not a readable ONNX model (the caller adds the path).
pub type ParseError = String;

/// One tensor stored in the file, as f32.
#[derive(Debug, Clone)]
pub struct Initializer {
    pub dims: Vec<usize>,
    pub data: Vec<f32>,
}

/// One operation of the graph.
#[derive(Debug, Clone, Default)]
pub struct Node {
    /// The exporter's name: for PyTorch exports, the module path (`/dec/ups.0/ConvTranspose`).
    pub name: String,
    pub op_type: String,
    pub inputs: Vec<String>,
    /// Integer and integer-list attributes (`dilations`, `pads`, `strides`, `group`).
    pub ints: HashMap<String, Vec<i64>>,
}

/// The parts of an ONNX model DocTalk uses.
#[derive(Debug, Default)]
pub struct Graph {
    pub initializers: HashMap<String, Initializer>,
    pub nodes: Vec<Node>,
}

/// Parses a whole `.onnx` file.
pub fn parse_model(bytes: &[u8]) -> Result<Graph, ParseError> {
    let mut graph = None;
    for field in Fields::new(bytes) {
        let (number, value) = field?;
        if number == 7 {
            graph = Some(parse_graph(value.bytes()?)?);
        }
    }
    graph.ok_or_else(|| "no graph in the file (is it an ONNX model?)".to_string())
}

fn parse_graph(bytes: &[u8]) -> Result<Graph, ParseError> {
    let mut graph = Graph::default();
    for field in Fields::new(bytes) {
        match field? {
            (1, value) => graph.nodes.push(parse_node(value.bytes()?)?),
            (5, value) => {
                let (name, tensor) = parse_tensor(value.bytes()?)?;
                if let Some(tensor) = tensor {
                    graph.initializers.insert(name, tensor);
                }
            }
            _ => {}
        }
    }
    Ok(graph)
}

fn parse_node(bytes: &[u8]) -> Result<Node, ParseError> {
    let mut node = Node::default();
    for field in Fields::new(bytes) {
        match field? {
            (1, value) => node.inputs.push(value.string()?),
            (3, value) => node.name = value.string()?,
            (4, value) => node.op_type = value.string()?,
            (5, value) => {
                if let Some((name, ints)) = parse_int_attribute(value.bytes()?)? {
                    node.ints.insert(name, ints);
                }
            }
            _ => {}
        }
    }
    Ok(node)
}

/// An attribute's name and integer value(s); `None` for other attribute types.
fn parse_int_attribute(bytes: &[u8]) -> Result<Option<(String, Vec<i64>)>, ParseError> {
    let mut name = String::new();
    let mut ints = Vec::new();
    for field in Fields::new(bytes) {
        match field? {
            (1, value) => name = value.string()?,
            (3, Value::Varint(v)) => ints.push(v as i64),
            (8, Value::Varint(v)) => ints.push(v as i64),
            (8, Value::Bytes(packed)) => ints.extend(packed_varints(packed)?.into_iter().map(|v| v as i64)),
            _ => {}
        }
    }
    Ok((!ints.is_empty()).then_some((name, ints)))
}

/// A packed repeated integer field.
fn packed_varints(packed: &[u8]) -> Result<Vec<u64>, ParseError> {
    let mut reader = Reader {
        bytes: packed,
        pos: 0,
    };
    let mut out = Vec::new();
    while reader.pos < packed.len() {
        out.push(reader.varint()?);
    }
    Ok(out)
}

/// ONNX `TensorProto.DataType` values DocTalk reads.
const FLOAT: u64 = 1;
const FLOAT16: u64 = 10;

/// A tensor's name and, for float tensors, its data (integer tensors are graph plumbing: skipped).
fn parse_tensor(bytes: &[u8]) -> Result<(String, Option<Initializer>), ParseError> {
    let mut name = String::new();
    let mut dims = Vec::new();
    let mut data_type = 0;
    let mut raw: Option<&[u8]> = None;
    let mut floats = Vec::new();
    let mut external = false;
    for field in Fields::new(bytes) {
        match field? {
            (1, Value::Varint(v)) => dims.push(v as usize),
            (1, Value::Bytes(packed)) => dims.extend(packed_varints(packed)?.into_iter().map(|v| v as usize)),
            (2, Value::Varint(v)) => data_type = v,
            (4, Value::Fixed32(v)) => floats.push(f32::from_bits(v)),
            (4, Value::Bytes(packed)) => floats.extend(
                packed
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            ),
            (8, value) => name = value.string()?,
            (9, value) => raw = Some(value.bytes()?),
            (13, _) => external = true,
            _ => {}
        }
    }
    if external {
        return Err(format!(
            "tensor {name} is stored outside the .onnx file (external data is not supported)"
        ));
    }
    // Checked: the sizes come from the file, and a damaged one can overflow their product.
    let count = doctalk_models::dims::element_count(&dims)
        .ok_or_else(|| format!("tensor {name} has an impossible shape {dims:?}"))?;
    let data = match (data_type, raw) {
        (FLOAT, Some(raw)) => raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        (FLOAT, None) => floats,
        (FLOAT16, Some(raw)) => raw
            .chunks_exact(2)
            .map(|c| half_to_f32(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        _ => return Ok((name, None)),
    };
    if data.len() != count {
        return Err(format!(
            "tensor {name} has {} values for shape {dims:?}",
            data.len()
        ));
    }
    Ok((name, Some(Initializer { dims, data })))
}

/// IEEE 754 binary16 → f32 (exact).
fn half_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = ((h >> 10) & 0x1f) as i32;
    let mantissa = (h & 0x3ff) as f32;
    match exponent {
        0 => sign * mantissa * 2f32.powi(-24),
        31 if mantissa == 0.0 => sign * f32::INFINITY,
        31 => f32::NAN,
        e => sign * (1.0 + mantissa / 1024.0) * 2f32.powi(e - 15),
    }
}

/// A field's value by wire type.
enum Value<'a> {
    Varint(u64),
    Fixed64,
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl<'a> Value<'a> {
    fn bytes(self) -> Result<&'a [u8], ParseError> {
        match self {
            Value::Bytes(b) => Ok(b),
            _ => Err("expected a length-delimited field".into()),
        }
    }

    fn string(self) -> Result<String, ParseError> {
        Ok(String::from_utf8_lossy(self.bytes()?).into_owned())
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn varint(&mut self) -> Result<u64, ParseError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self
                .bytes
                .get(self.pos)
                .ok_or("the file ends inside a number (truncated?)")?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a number is longer than 10 bytes".into())
    }

    fn take(&mut self, n: usize) -> Result<&[u8], ParseError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or("a field runs past the end of the file (truncated?)")?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }
}

/// The fields of one message, in file order.
struct Fields<'a> {
    reader: Reader<'a>,
    failed: bool,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Fields {
            reader: Reader { bytes, pos: 0 },
            failed: false,
        }
    }

    fn next_field(&mut self) -> Result<(u32, Value<'a>), ParseError> {
        let key = self.reader.varint()?;
        let number = (key >> 3) as u32;
        let value = match key & 7 {
            0 => Value::Varint(self.reader.varint()?),
            1 => {
                self.reader.take(8)?;
                Value::Fixed64
            }
            2 => {
                let len = self.reader.varint()? as usize;
                let bytes: &'a [u8] = self.reader.bytes;
                let start = self.reader.pos;
                self.reader.take(len)?;
                Value::Bytes(&bytes[start..start + len])
            }
            5 => {
                let b = self.reader.take(4)?;
                Value::Fixed32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            other => return Err(format!("unknown protobuf wire type {other}")),
        };
        Ok((number, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Value<'a>), ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.reader.pos >= self.reader.bytes.len() {
            return None;
        }
        let field = self.next_field();
        self.failed = field.is_err();
        Some(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    fn bytes_field(number: u32, payload: &[u8], out: &mut Vec<u8>) {
        varint(u64::from(number) << 3 | 2, out);
        varint(payload.len() as u64, out);
        out.extend_from_slice(payload);
    }

    #[test]
    fn reads_a_float_initializer_and_a_conv_node() {
        let mut tensor = Vec::new();
        varint(1 << 3, &mut tensor);
        varint(2, &mut tensor);
        varint(2 << 3, &mut tensor);
        varint(FLOAT, &mut tensor);
        bytes_field(8, b"w", &mut tensor);
        let raw: Vec<u8> = [1.5f32, -2.0].iter().flat_map(|f| f.to_le_bytes()).collect();
        bytes_field(9, &raw, &mut tensor);

        let mut attr = Vec::new();
        bytes_field(1, b"dilations", &mut attr);
        let mut packed = Vec::new();
        varint(3, &mut packed);
        bytes_field(8, &packed, &mut attr);

        let mut node = Vec::new();
        bytes_field(1, b"x", &mut node);
        bytes_field(1, b"w", &mut node);
        bytes_field(3, b"/enc/conv/Conv", &mut node);
        bytes_field(4, b"Conv", &mut node);
        bytes_field(5, &attr, &mut node);

        let mut graph = Vec::new();
        bytes_field(1, &node, &mut graph);
        bytes_field(5, &tensor, &mut graph);
        let mut model = Vec::new();
        varint(1 << 3, &mut model); // ir_version
        varint(8, &mut model);
        bytes_field(7, &graph, &mut model);

        let parsed = parse_model(&model).unwrap();
        assert_eq!(parsed.initializers["w"].data, [1.5, -2.0]);
        assert_eq!(parsed.initializers["w"].dims, [2]);
        assert_eq!(parsed.nodes[0].op_type, "Conv");
        assert_eq!(parsed.nodes[0].inputs, ["x", "w"]);
        assert_eq!(parsed.nodes[0].ints["dilations"], [3]);

        let err = parse_model(&model[..model.len() - 3]).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
        assert!(parse_model(b"not a model").is_err());
    }

    #[test]
    fn a_shape_whose_size_overflows_is_an_error_not_a_panic() {
        let mut tensor = Vec::new();
        for _ in 0..3 {
            varint(1 << 3, &mut tensor);
            varint(1 << 40, &mut tensor);
        }
        varint(2 << 3, &mut tensor);
        varint(FLOAT, &mut tensor);
        bytes_field(8, b"w", &mut tensor);
        let mut graph = Vec::new();
        bytes_field(5, &tensor, &mut graph);
        let mut model = Vec::new();
        bytes_field(7, &graph, &mut model);
        let err = parse_model(&model).unwrap_err();
        assert!(err.contains("impossible shape"), "{err}");
        // No values, but strides past the zero overflow (the fuzzer's find, in candle).
        let mut tensor = Vec::new();
        for d in [0, 1 << 40, 1 << 40] {
            varint(1 << 3, &mut tensor);
            varint(d, &mut tensor);
        }
        varint(2 << 3, &mut tensor);
        varint(FLOAT, &mut tensor);
        let mut graph = Vec::new();
        bytes_field(5, &tensor, &mut graph);
        let mut model = Vec::new();
        bytes_field(7, &graph, &mut model);
        assert!(parse_model(&model).unwrap_err().contains("impossible shape"));
    }

    #[test]
    fn half_precision_values_convert_exactly() {
        assert_eq!(half_to_f32(0x3c00), 1.0);
        assert_eq!(half_to_f32(0xc000), -2.0);
        assert_eq!(half_to_f32(0x0001), 2f32.powi(-24));
    }
}
