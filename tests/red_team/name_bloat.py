# base: reference
# attacks: ReLU
# class: plain code whose results carry megabytes in names the verdicts quote: an object of a
#   class with a 4 MB name, an exception class with a 4 MB name
# %% ReLU
_Huge = type("R" * 4_000_000, (), {})
_Alarm = type("E" * 4_000_000, (Exception,), {})


def ReLU(x):
    if isinstance(x, np.ndarray):
        return _Huge()
    raise _Alarm("no")
