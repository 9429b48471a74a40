AUDIO_READ_EXTS = AUDIO_WRITE_EXTS = ()
def read_audio(*a, **k): raise NotImplementedError
def write_audio(*a, **k): raise NotImplementedError
