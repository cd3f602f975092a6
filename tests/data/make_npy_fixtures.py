"""Writes the .npy fixtures in tests/data/npy with NumPy (run once; the files are committed).
Each array is np.arange(n) arranged and cast as its name says, so tests can rebuild the values."""
import numpy as np, os
from numpy.lib import format as fmt
out = os.path.join(os.path.dirname(__file__), "npy")
names = {"b1": np.bool_, "i1": np.int8, "i2": np.int16, "i4": np.int32, "i8": np.int64,
         "u1": np.uint8, "u2": np.uint16, "u4": np.uint32, "u8": np.uint64, "f4": np.float32, "f8": np.float64}
for code, t in names.items():
    a = (np.arange(6) % 2).astype(t) if code == "b1" else (np.arange(6) - 2).astype(t) if code[0] in "if" else np.arange(6).astype(t)
    np.save(os.path.join(out, f"c_{code}_2x3.npy"), a.reshape(2, 3))
    np.save(os.path.join(out, f"f_{code}_2x3.npy"), np.asfortranarray(a.reshape(2, 3)))
np.save(os.path.join(out, "c_f8_scalar.npy"), np.array(2.5))
np.save(os.path.join(out, "c_f4_0x3.npy"), np.zeros((0, 3), np.float32))
np.save(os.path.join(out, "c_i8_3d.npy"), np.arange(24).reshape(2, 3, 4))
for code in ("i4", "f8", "u2"):
    np.save(os.path.join(out, f"be_{code}_2x3.npy"), np.arange(6).astype(">" + code).reshape(2, 3))
for v in ((2, 0), (3, 0)):
    with open(os.path.join(out, f"v{v[0]}_f8_2x3.npy"), "wb") as f:
        fmt.write_array(f, np.arange(6, dtype=np.float64).reshape(2, 3), version=v)
