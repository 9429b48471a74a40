LrcLine = None
def read_lrc(*a, **k): raise NotImplementedError
def write_lrc(*a, **k): raise NotImplementedError
def score_to_lrc(*a, **k): raise NotImplementedError
