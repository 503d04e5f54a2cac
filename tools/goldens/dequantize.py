#!/usr/bin/python3
"""Writes a GGUF with every tensor of IN dequantized to F32 by the reference's own gguf-py
(gguf.quants.dequantize: numpy versions of ggml's to_float, every legacy, K-, i- and ternary
type), metadata unchanged except general.file_type = 0. The deq_ goldens run llama.cpp on it:
the oracle for a runtime that decodes weights exactly and computes in float.

    PYTHONPATH=/work/ref/llama.cpp/gguf-py /usr/bin/python3 tools/goldens/dequantize.py IN.gguf OUT.gguf
"""
import sys

import numpy as np
import gguf


def main(src: str, dst: str) -> None:
    reader = gguf.GGUFReader(src)
    arch = reader.fields["general.architecture"].contents()
    writer = gguf.GGUFWriter(dst, arch)
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        value = field.contents()
        if name == "general.file_type":
            value = 0
        main_type = field.types[0]
        sub_type = field.types[-1] if main_type == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(name, value, main_type, sub_type)
    for tensor in reader.tensors:
        data = gguf.quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
        writer.add_tensor(tensor.name, data.reshape([int(d) for d in reversed(tensor.shape)]))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
