"""seq2seq_asr: spoken Russian whole numbers (1..999999) to integers.

    import seq2seq_asr
    model = seq2seq_asr.load()
    model.transcribe("call.wav").number

api.py (load, Model: the public door) -> transcribe.py (the streaming core every door uses)
-> audio.py (features), model.py (network), decoding.py (constrained search);
checkpoint.py saves and loads models, data.py feeds training, gender.py classifies the
speaker, corpus/ makes training data; cli.py (the `seq2seq-asr` command) and server.py
(the HTTP service) are thin layers over api.py.
"""
from .api import Model, load, save_ensemble
from .checkpoint import CheckpointError
from .transcribe import Options, Result

__all__ = ["load", "save_ensemble", "Model", "Result", "Options", "CheckpointError"]
