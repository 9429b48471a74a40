def read_musicxml(*a, **k): raise NotImplementedError
def write_musicxml(*a, **k): raise NotImplementedError
