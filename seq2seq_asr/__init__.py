"""seq2seq_asr: spoken Russian whole numbers (1..999999) to integers.

audio.py (features) -> model.py (network) -> decoding.py (constrained search)
-> transcribe.py (files in, Results out); checkpoint.py saves and loads models,
data.py feeds training, gender.py classifies the speaker, corpus/ makes training data.
"""
