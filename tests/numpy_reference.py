"""Prints NumPy's metadata for the expressions in tests/metadata_vs_copy.rs, so the expected
values there can be checked or regenerated: python3 tests/numpy_reference.py"""
import numpy as np

def meta(name, r, src):
    base = src.__array_interface__["data"][0] if src.base is None else src.base.__array_interface__["data"][0]
    off = r.__array_interface__["data"][0] - base
    f = r.flags
    print(f"{name:34} shape={r.shape} strides={r.strides} offset={off} C={f.c_contiguous} F={f.f_contiguous} "
          f"own={f.owndata} w={f.writeable} shares={np.shares_memory(r, src)} vals={r.ravel().tolist()[:12]}")

base = np.arange(9, dtype=np.int8)
a = base.reshape(3, 3)
meta("arange(9).reshape(3,3)", a, base)
meta("a.T", a.T, a)
meta("a[::2]", a[::2], a)
meta("a[:, ::-1]", a[:, ::-1], a)
c = np.arange(16, dtype=np.int8).reshape(4, 4)
meta("np.asfortranarray(c)", np.asfortranarray(c), c)
meta("a[1:, ::2]", a[1:, ::2], a)
row = np.arange(3, dtype=np.int8)
meta("broadcast_to(row,(4,3))", np.broadcast_to(row, (4, 3)), row)
meta("a[None]", a[None], a)
meta("expand_dims(a,0)", np.expand_dims(a, 0), a)
meta("a.T.reshape(3,3)", a.T.reshape(3, 3), a)
meta("a.T.reshape(9)", a.T.reshape(9), a)
meta("a.T.reshape(9, order=F)", a.T.reshape(9, order="F"), a)
x = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
meta("x.swapaxes(0,2)", x.swapaxes(0, 2), x)
meta("moveaxis(x,0,-1)", np.moveaxis(x, 0, -1), x)
meta("x.diagonal(0,1,2)", x.diagonal(0, 1, 2), x)
meta("x[:,1:2,:].squeeze()", x[:, 1:2, :].squeeze(), x)
meta("x.view(int16)", x.view(np.int16), x)
z = np.zeros((10, 10))
print("shares even/odd", np.shares_memory(z[:, ::2], z[:, 1::2]), "may", np.may_share_memory(z[:, ::2], z[:, 1::2]))
try:
    np.broadcast_arrays(a, np.arange(5, dtype=np.int8))
except ValueError as e:
    print("broadcast error:", e)
print(repr(np.arange(4, dtype=np.int8).reshape(2, 2)))
print(repr(np.array([0.5, 0.25, 1.0])), repr(np.array([1.0, -2.0])), repr(np.array([True, False])))
print(repr(np.zeros(0, np.float32)), repr(np.array(5)), repr(np.arange(2000)))
