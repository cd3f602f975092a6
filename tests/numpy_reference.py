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

# Issue 21: promotion of concatenate/stack/where, NaN order of sort/argsort, argpartition
# with ties, and error texts (tests/sort_proptest.rs and tests/manip_proptest.rs hold them).
print("concatenate int8+uint8:", np.concatenate([np.zeros(1, np.int8), np.zeros(1, np.uint8)]).dtype)
print("concatenate int32+float32:", np.concatenate([np.zeros(1, np.int32), np.zeros(1, np.float32)]).dtype)
print("stack uint64+int64:", np.stack([np.zeros(1, np.uint64), np.zeros(1, np.int64)]).dtype)
print("where int16/float32:", np.where([True], np.zeros(1, np.int16), np.zeros(1, np.float32)).dtype)
v = np.array([3.0, np.nan, -0.0, 1.0, 0.0, -np.inf, np.nan, 1.0, -1.0])
print("sort:", np.sort(v).tolist())
print("argsort stable:", np.argsort(v, kind="stable").tolist())
t = np.array([2, 1, 2, 1, 2, 1, 0, 2])
for k in (0, 3, 5):
    p = np.argpartition(t, k)
    print(f"argpartition ties kth={k}:", p.tolist(), "values:", t[p].tolist())
print("partition with nan kth=6:", np.partition(v, 6).tolist())
m = np.arange(6).reshape(2, 3)
for f in (lambda: np.take(m, [0, 3], axis=1), lambda: np.concatenate([m, np.zeros((2, 4))], axis=0),
          lambda: np.argpartition(m, 5, axis=1), lambda: np.split(m, 4, axis=1)):
    try:
        f()
    except (IndexError, ValueError) as e:
        print("error:", e)

# Issue 21: NumPy 2's weak scalars (NEP 50), tests/scalar_ops.rs.
def res(f):
    try:
        r = f()
        return f"{r.dtype} {r.tolist()}"
    except (OverflowError, TypeError, ValueError) as e:
        return f"{type(e).__name__}: {e}"
i8 = np.array([1, 127, -128], np.int8)
for name, f in [
    ("int8 + 1", lambda: i8 + 1), ("int8 + 1000", lambda: i8 + 1000), ("int8 + 0.5", lambda: i8 + 0.5),
    ("uint8 + -1", lambda: np.array([1], np.uint8) + -1), ("float32 * 2.0", lambda: np.array([1.5], np.float32) * 2.0),
    ("float32 + 1", lambda: np.array([1.5], np.float32) + 1), ("bool + 1", lambda: np.array([True]) + 1),
    ("bool + True", lambda: np.array([True]) + True), ("int32 / 2", lambda: np.array([3], np.int32) / 2),
    ("int64 + 2**63", lambda: np.array([1], np.int64) + 2**63), ("uint64 + 2**63", lambda: np.array([1], np.uint64) + 2**63),
    ("2 - int16", lambda: 2 - np.array([5], np.int16)), ("int8 < 300", lambda: i8 < 300),
]:
    print(f"{name}: {res(f)}")

# Issue 21, item 8: the next ufuncs, round, var/std, the nan-reductions, cumsum,
# sliding_window_view (tests/ufunc_proptest.rs `numpy_values_of_the_next_ufuncs`).
import warnings
warnings.simplefilter("ignore")
from numpy.lib.stride_tricks import sliding_window_view
for name, f in [
    ("sign", lambda: np.sign(np.array([-0.0, np.nan, -2.0, 3.0]))),
    ("sign bool", lambda: np.sign(np.array([True]))),
    ("round 0", lambda: np.round(np.array([0.5, 1.5, 2.5, -0.5, 1.2345, 2.675]))),
    ("round 2", lambda: np.round(np.array([1.2345, 2.675, 1234.5]), 2)),
    ("round -2", lambda: np.round(np.array([1250.0, 1350.0]), -2)),
    ("round 1e300 10", lambda: np.round(np.array([1e300]), 10)),
    ("round 1.25 400", lambda: np.round(np.array([1.25]), 400)),
    ("round int64 -1", lambda: np.round(np.array([15, 25, 35, -15, -25]), -1)),
    ("round uint8 -1", lambda: np.round(np.array([1, 2, 5, 15, 250, 255], np.uint8), -1)),
    ("round int8 -1", lambda: np.round(np.array([127, -128, 126], np.int8), -1)),
    ("reciprocal int32", lambda: np.reciprocal(np.array([1, -1, 2, -2], np.int32))),
    ("invert int8", lambda: np.invert(np.array([0, 1], np.int8))),
    ("invert uint8", lambda: np.invert(np.array([0, 1], np.uint8))),
    ("invert float", lambda: np.invert(np.array([1.0]))),
    ("bitwise_and float", lambda: np.bitwise_and(np.array([1.0]), np.array([1.0]))),
    ("bitwise_xor int8", lambda: np.bitwise_xor(np.array([-1, 5], np.int8), np.array([3, 3], np.int8))),
    ("rint int8", lambda: np.rint(np.array([1], np.int8))),
    ("hypot int64", lambda: np.hypot(np.array([3]), np.array([4]))),
    ("arctan2 int8", lambda: np.arctan2(np.array([1], np.int8), np.array([1], np.int8))),
    ("logical_not float", lambda: np.logical_not(np.array([0.0, np.nan]))),
    ("floor_divide bool", lambda: np.floor_divide(np.array([True]), np.array([True]))),
    ("var", lambda: np.var(np.array([1.0, 2.0, 3.0, 4.0]), keepdims=True)),
    ("var ddof=1 int", lambda: np.var(np.array([1, 2, 3, 4]), ddof=1)),
    ("std float32 axis 0", lambda: np.std(np.array([[1, 2], [3, 5]], np.float32), axis=0)),
    ("var ddof=2 of 2", lambda: np.var(np.array([1.0, 3.0]), ddof=2)),
    ("nanmean", lambda: np.nanmean(np.array([[1.0, np.nan], [np.nan, np.nan]]), axis=1)),
    ("nanmin", lambda: np.nanmin(np.array([[np.nan, 2.0], [np.nan, np.nan]]), axis=1)),
    ("nanmin empty", lambda: np.nanmin(np.zeros(0))),
    ("nansum float32", lambda: np.nansum(np.array([np.nan, 1.5], np.float32))),
    ("cumsum bool", lambda: np.cumsum(np.array([True, True, False]))),
    ("cumprod uint8", lambda: np.cumprod(np.array([200, 2], np.uint8))),
    ("sliding_window_view", lambda: sliding_window_view(np.arange(5), 3)),
]:
    print(f"{name}: {res(f)}")
