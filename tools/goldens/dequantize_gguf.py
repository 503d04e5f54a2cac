#!/usr/bin/env python3
"""Writes a GGUF's quantized tensors dequantized to F32, everything else unchanged:
the model behind a deq_<TYPE> golden (../shared/conformance/README.md), which isolates
weight decoding from llama.cpp's activation quantization.

    /usr/bin/python3 tools/goldens/dequantize_gguf.py IN.gguf OUT.gguf

Uses the reference's own gguf-py (numpy), not Tandem: $GOLDEN_REF/gguf-py (default
/work/ref/llama.cpp). general.file_type becomes 0 (all F32). Deterministic.
"""
import os
import sys

REF = os.environ.get("GOLDEN_REF", "/work/ref/llama.cpp")
sys.path.insert(0, os.path.join(REF, "gguf-py"))

import numpy as np  # noqa: E402
import gguf  # noqa: E402
from gguf.quants import dequantize  # noqa: E402


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    reader = gguf.GGUFReader(sys.argv[1])
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    writer = gguf.GGUFWriter(sys.argv[2], arch=arch)
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue  # written by GGUFWriter itself
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
        value = 0 if field.name == gguf.Keys.General.FILE_TYPE else field.contents()
        writer.add_key_value(field.name, value, value_type, sub_type=sub_type)
    for tensor in reader.tensors:
        if tensor.tensor_type in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
            data = np.asarray(tensor.data, dtype=np.float32)
        else:
            data = dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
        # numpy order is ggml's reversed: [rows, row length]
        shape = tuple(int(d) for d in reversed(tensor.shape.tolist()))
        writer.add_tensor(tensor.name, data.reshape(shape), raw_dtype=gguf.GGMLQuantizationType.F32)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
