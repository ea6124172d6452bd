import math

import pytest
import torch

from normalizer import WordVocab, spoken_forms, to_words
from seq2seq_asr import checkpoint
from seq2seq_asr.audio import N_MELS
from seq2seq_asr.decoding import beam_search, greedy_decode
from seq2seq_asr.model import Ensemble, ModelConfig, Recognizer, conv_one_channel

VOCAB = WordVocab()


def small_model(seed=0, **kw):
    torch.manual_seed(seed)
    return Recognizer(ModelConfig(**{"vocab_size": len(VOCAB), "enc_hidden": 32, "dec_hidden": 48, **kw})).eval()


def test_shapes_and_size_of_the_default_model():
    model = Recognizer(ModelConfig(vocab_size=len(VOCAB)))
    assert sum(p.numel() for p in model.parameters()) <= 5_000_000
    feats, lengths = torch.randn(3, 333, N_MELS), torch.tensor([333, 200, 17])
    memory, mask, enc_lengths = model.eval().encode(feats, lengths)
    assert enc_lengths.tolist() == [42, 25, 3]  # ceil(T / 8)
    assert memory.shape == (3, 42, 2 * model.config.enc_hidden)
    assert mask.sum(1).tolist() == [42, 25, 3]
    inputs = torch.randint(3, len(VOCAB), (3, 5))
    logits, attention, _, _ = model(feats, lengths, inputs)
    assert logits.shape == (3, 5, len(VOCAB)) and attention.shape == (3, 5, 42)
    assert torch.allclose(attention.sum(-1), torch.ones(3, 5), atol=1e-5)
    assert attention[2, :, 3:].abs().max() == 0  # no attention on padding


def test_padding_does_not_change_an_utterance():
    model = small_model()
    a, b = torch.randn(121, N_MELS), torch.randn(300, N_MELS)  # 121: odd lengths at every layer
    alone = model(a[None], torch.tensor([121]), torch.tensor([[1, 5, 6]]))[0]
    batch = torch.nn.utils.rnn.pad_sequence([a, b], batch_first=True)
    together = model(batch, torch.tensor([121, 300]), torch.tensor([[1, 5, 6], [1, 7, 8]]))[0]
    assert torch.allclose(alone[0], together[0], atol=1e-5)


def test_loss_decreases_on_a_tiny_batch():
    model = small_model().train()
    feats, lengths = torch.randn(2, 160, N_MELS), torch.tensor([160, 120])
    labels = [VOCAB.encode(to_words(n)) for n in (231547, 12)]
    pad = lambda xs: torch.nn.utils.rnn.pad_sequence([torch.tensor(x) for x in xs], batch_first=True)
    batch = (feats, lengths, pad([[VOCAB.sos] + x for x in labels]), pad([x + [VOCAB.eos] for x in labels]),
             pad(labels), torch.tensor([len(x) for x in labels]))
    optimizer = torch.optim.Adam(model.parameters(), 3e-3)
    first = model.loss(*batch)[0].item()
    for _ in range(30):
        loss = model.loss(*batch)[0]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < first / 2


def test_decoding_always_gives_a_canonical_number():
    for seed in range(4):
        model = small_model(seed)
        feats, lengths = torch.randn(6, 250, N_MELS) * 3, torch.tensor([250, 240, 100, 60, 30, 9])
        for hyps in (greedy_decode(model, feats, lengths, VOCAB),
                     beam_search(model, feats, lengths, VOCAB, beam=3),
                     beam_search(model, feats, lengths, VOCAB, beam=4, ctc_weight=0.5)):
            assert len(hyps) == 6
            for h in hyps:
                assert 1 <= h.number <= 999_999 and h.words in spoken_forms(h.number)
                assert 0.0 <= h.confidence <= 1.0


def test_beam_is_at_least_as_likely_as_greedy():
    model = small_model(3)
    feats, lengths = torch.randn(4, 200, N_MELS), torch.tensor([200, 150, 100, 50])
    greedy = greedy_decode(model, feats, lengths, VOCAB)
    beam = beam_search(model, feats, lengths, VOCAB, beam=6)
    for g, b in zip(greedy, beam):
        assert b.score >= g.score - 1e-4


@pytest.mark.parametrize("conv, shape", [
    (torch.nn.Conv2d(1, 8, 3, stride=2, padding=1), (3, 1, 37, 64)),  # the front end's first layer
    (torch.nn.Conv1d(1, 4, 15, padding=7, bias=False), (5, 1, 23)),  # the attention's location filter
])
def test_a_one_channel_convolution_as_a_matrix_product_matches_the_kernel(conv, shape):
    torch.manual_seed(0)
    x = torch.randn(shape, requires_grad=True)
    expected = conv(x)
    (expected_grad,) = torch.autograd.grad(expected.square().sum(), x)
    got = conv_one_channel(conv, x)
    (got_grad,) = torch.autograd.grad(got.square().sum(), x)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.allclose(got_grad, expected_grad, atol=1e-4)


def test_beam_search_reads_each_utterance_of_a_batch_as_it_would_alone():
    model = small_model(4)
    lengths = torch.tensor([180, 120, 60])
    feats = torch.randn(3, 180, N_MELS) * (torch.arange(180)[None, :, None] < lengths[:, None, None])
    together = beam_search(model, feats, lengths, VOCAB, beam=4, ctc_weight=0.3)
    for b, h in enumerate(together):
        alone = beam_search(model, feats[b:b + 1, :lengths[b]], lengths[b:b + 1], VOCAB, beam=4,
                            ctc_weight=0.3)[0]
        assert (alone.number, alone.words) == (h.number, h.words)
        assert alone.score == pytest.approx(h.score, abs=1e-4)


def test_checkpoint_round_trip_and_bad_files(tmp_path):
    model = small_model(ctc=False)
    checkpoint.save(tmp_path / "m.pt", model, VOCAB)
    loaded, vocab, payload = checkpoint.load(tmp_path / "m.pt")
    assert vocab.tokens == VOCAB.tokens and loaded.config == model.config
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a, b)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    torch.save({"format": "something else"}, tmp_path / "other.pt")
    payload["config"]["enc_hidden"] = 33
    torch.save(payload, tmp_path / "damaged.pt")
    for name, message in [("junk.pt", "not a readable checkpoint"), ("other.pt", "not a seq2seq_asr"),
                          ("damaged.pt", "damaged checkpoint"), ("missing.pt", "no such")]:
        try:
            checkpoint.load(tmp_path / name)
        except checkpoint.CheckpointError as e:
            assert message in str(e) and name in str(e)
        else:
            raise AssertionError(f"{name} loaded")


def test_a_float16_copy_is_half_the_file_and_decodes_as_the_original(tmp_path):
    model = small_model(5)
    checkpoint.save(tmp_path / "m.pt", model, VOCAB, {"history": "[]"})
    checkpoint.save_half(tmp_path / "m.pt", tmp_path / "half.pt")
    stored = torch.load(tmp_path / "half.pt", weights_only=True)
    assert stored["history"] == "[]" and stored["vocab"] == VOCAB.to_dict()
    assert {v.dtype for v in stored["model"].values() if v.is_floating_point()} == {torch.float16}
    assert (tmp_path / "half.pt").stat().st_size < 0.6 * (tmp_path / "m.pt").stat().st_size
    loaded, _, _ = checkpoint.load(tmp_path / "half.pt")
    assert all(v.dtype == torch.float32 for v in loaded.state_dict().values() if v.is_floating_point())
    torch.manual_seed(0)
    feats, lengths = torch.randn(2, 120, N_MELS), torch.tensor([120, 90])
    with torch.no_grad():
        a, b = (m.encode(feats, lengths)[0] for m in (model, loaded))
    assert torch.allclose(a, b, atol=1e-2) and not torch.equal(a, b)  # rounded, not the same file
    # a weight float16 cannot hold is refused and nothing is written
    payload = torch.load(tmp_path / "m.pt", weights_only=True)
    next(v for v in payload["model"].values() if v.is_floating_point())[0] = 1e6
    torch.save(payload, tmp_path / "big.pt")
    with pytest.raises(checkpoint.CheckpointError, match="beyond float16's range"):
        checkpoint.save_half(tmp_path / "big.pt", tmp_path / "big-half.pt")
    assert not (tmp_path / "big-half.pt").exists()


def test_checkpoint_carries_a_sentencepiece_vocabulary(tmp_path):
    from normalizer import PieceVocab

    pieces = PieceVocab.train([" ".join(to_words(n)) for n in range(1, 5000, 3)], vocab_size=60)
    torch.manual_seed(0)
    model = Recognizer(ModelConfig(vocab_size=len(pieces), enc_hidden=16, dec_hidden=16))
    checkpoint.save(tmp_path / "p.pt", model, pieces)
    _, loaded, _ = checkpoint.load(tmp_path / "p.pt")
    assert loaded.kind == "pieces" and loaded.tokens == pieces.tokens
    assert loaded.decode(loaded.encode(to_words(231547))) == to_words(231547)


def test_vtlp_moves_formants_and_keeps_shape():
    from seq2seq_asr.audio import perturb, vtlp
    feats = torch.zeros(10, N_MELS)
    feats[:, 20] = 5.0
    assert torch.allclose(vtlp(feats, 1.0), feats, atol=1e-5)
    assert vtlp(feats, 1.12).argmax(1).float().mean() > 20  # a shorter tract: higher formants
    assert vtlp(feats, 0.88).argmax(1).float().mean() < 20
    g = torch.Generator().manual_seed(0)
    assert perturb(feats, g).shape == feats.shape
    stretched = perturb(feats, g, stretch_range=0.3)
    assert 7 <= len(stretched) <= 15 and stretched.shape[1] == N_MELS


def test_stretch_changes_tempo_not_content():
    from seq2seq_asr.audio import stretch
    ramp = torch.linspace(0, 1, 100)[:, None].repeat(1, N_MELS)
    fast, slow = stretch(ramp, 1.25), stretch(ramp, 0.8)
    assert (len(fast), len(slow)) == (80, 125)
    for x in (fast, slow):  # same start, same end, still a ramp
        assert torch.allclose(x[[0, -1], 0], torch.tensor([0.0, 1.0])) and (x[1:, 0] > x[:-1, 0]).all()
    assert torch.equal(stretch(ramp, 1.0), ramp)


def test_feature_floor_makes_silence_and_a_quiet_noise_floor_alike():
    """Digital silence around a tone and the same clip with white noise 70 dB under its peak
    give nearly the same floored features; without the floor they do not. Nor does the level
    matter with the floor."""
    from seq2seq_asr.audio import SAMPLE_RATE, log_mel
    g = torch.Generator().manual_seed(0)
    tone = 0.9 * torch.sin(2 * torch.pi * 440 * torch.arange(SAMPLE_RATE) / SAMPLE_RATE)
    clip = torch.cat([torch.zeros(SAMPLE_RATE // 2), tone, torch.zeros(SAMPLE_RATE // 2)])
    noisy = clip + 10 ** (-70 / 20) * torch.randn(len(clip), generator=g)
    gap = lambda a, b, floor: (log_mel(a, floor) - log_mel(b, floor)).abs().mean()  # noqa: E731
    assert gap(clip, noisy, 60.0) < 0.01 < 0.3 < gap(clip, noisy, 0.0)
    assert gap(clip, clip * 1e-3, 60.0) < 0.01 < 0.1 < gap(clip, clip * 1e-3, 0.0)


def test_a_checkpoint_from_before_the_floor_keeps_its_features(tmp_path):
    model = small_model(floor_db=60.0)
    checkpoint.save(tmp_path / "m.pt", model, VOCAB)
    payload = torch.load(tmp_path / "m.pt", weights_only=True)
    del payload["config"]["floor_db"]  # as the first checkpoints were written
    torch.save(payload, tmp_path / "old.pt")
    assert checkpoint.load(tmp_path / "m.pt")[0].config.floor_db == 60.0
    assert checkpoint.load(tmp_path / "old.pt")[0].config.floor_db == 0.0


def test_raw_log_mel_floored_later_is_the_same_feature():
    """log_mel = normalize(log_mel_power): a trainer that keeps the raw power and draws the
    floor per clip sees at its floor_db what transcription sees."""
    from seq2seq_asr.audio import SAMPLE_RATE, log_mel, log_mel_power, normalize
    g = torch.Generator().manual_seed(1)
    clip = torch.randn(SAMPLE_RATE, generator=g) * torch.linspace(0, 1, SAMPLE_RATE) ** 4
    raw = log_mel_power(clip)
    assert raw.mean().abs() > 1  # nothing normalized yet
    for floor in (40.0, 60.0):
        assert torch.allclose(normalize(raw, floor), log_mel(clip, floor), atol=1e-4)
    # a lower floor hides more of the quiet start: the features differ where the clip is quiet
    assert (normalize(raw, 40.0) - normalize(raw, 60.0))[:20].abs().mean() > 0.1


def test_collate_draws_a_floor_per_training_clip():
    from normalizer import WordVocab
    from seq2seq_asr.audio import SAMPLE_RATE, log_mel_power, normalize
    from seq2seq_asr.data import Example, collate
    g = torch.Generator().manual_seed(2)
    clip = torch.randn(SAMPLE_RATE, generator=g) * torch.linspace(0, 1, SAMPLE_RATE) ** 4
    raw = Example(log_mel_power(clip).half(), 7, "s", "female")
    vocab = WordVocab()
    fixed = collate([raw], vocab, floors=(40.0, 60.0))["feats"][0]  # no generator: the middle
    assert torch.allclose(fixed, normalize(raw.feats.float(), 50.0), atol=1e-5)
    batch = collate([raw] * 4, vocab, torch.Generator().manual_seed(0), vtlp=0.0, floors=(40.0, 60.0))
    starts = batch["feats"][:, :5].mean(dim=(1, 2))  # the quiet start, floored differently per clip
    assert len({round(float(s), 3) for s in starts}) == 4


def test_mix_under_adds_power_at_the_asked_level_and_offset():
    from seq2seq_asr.audio import mix_under
    g = torch.Generator().manual_seed(0)
    quiet = torch.full((50, 64), math.log(1e-4))  # (frames, n_mels) log mel power
    loud = torch.zeros(20, 64)  # power 1 for 20 frames
    mixed = mix_under(quiet, [quiet], [0.0], g)
    assert torch.allclose(mixed, quiet + math.log(2))  # itself at 0 dB: twice the power
    mixed = mix_under(loud.repeat(3, 1)[:50], [loud], [10.0], g)  # 20 frames somewhere in 50
    added = mixed.exp() - loud.repeat(3, 1)[:50].exp()
    touched = added.abs().amax(dim=1) > 0
    assert int(touched.sum()) == 20 and touched.nonzero().squeeze().diff().eq(1).all()  # in one stretch
    assert torch.allclose(added[touched], torch.full_like(added[touched], 0.1), rtol=1e-3)  # 10 dB under
    long = torch.full((80, 64), math.log(1e-4))
    assert mix_under(quiet, [long], [20.0], g).shape == quiet.shape  # a longer voice is cut to fit
    assert torch.equal(mix_under(quiet, [], [], g), quiet)


def test_collate_babble_mixes_other_clips_of_the_batch_under_a_share():
    from seq2seq_asr.audio import SAMPLE_RATE, log_mel_power, normalize
    from seq2seq_asr.data import Example, babble_batch, collate
    g = torch.Generator().manual_seed(3)
    clips = [log_mel_power(torch.randn(SAMPLE_RATE, generator=g) * (i + 1) * 0.1) for i in range(6)]
    assert all(torch.equal(a, b) for a, b in zip(babble_batch(clips, 0.0, g), clips))
    everyone = babble_batch(clips, 1.0, g)
    assert all((a > b - 1e-5).all() and (a > b + 1e-3).any() for a, b in zip(everyone, clips))  # only adds
    assert torch.equal(babble_batch(clips[:1], 1.0, g)[0], clips[0])  # nobody else to talk under it
    vocab = WordVocab()
    batch = [Example(c.half(), 7, "s", "female") for c in clips]
    plain = collate(batch, vocab, floors=(60.0, 60.0), babble=1.0)["feats"]  # no generator: no babble
    assert torch.allclose(plain[0], normalize(batch[0].feats.float(), 60.0), atol=1e-5)
    with pytest.raises(ValueError, match="floors"):
        collate(batch, vocab, g, babble=0.5)


def test_smooth_bands_fades_harmonics_and_keeps_the_envelope():
    from seq2seq_asr.audio import perturb, smooth_bands
    bands = torch.arange(64, dtype=torch.float32)
    envelope = torch.exp(-((bands - 20) / 12) ** 2)  # one broad formant
    comb = (bands % 6 == 0).float()  # harmonics every 6 bands
    feats = (envelope + comb)[None].repeat(5, 1)
    blurred = smooth_bands(feats, 2.0)
    assert blurred.shape == feats.shape
    ripple = lambda x: (x[0, 1:] - x[0, :-1]).abs().mean()  # noqa: E731
    assert ripple(blurred) < 0.2 * ripple(feats)
    assert int(blurred[0].argmax()) in range(16, 25)  # the formant stays where it was
    g = torch.Generator().manual_seed(0)
    assert perturb(feats, g, smooth_share=1.0).shape == feats.shape


def test_mix_style_moves_statistics_keeps_content_and_padding():
    from seq2seq_asr.model import mix_style
    torch.manual_seed(0)
    content = torch.randn(2, 20, 8)
    x = torch.stack([content[0] * 0.5 + 3.0, content[1] * 4.0 - 2.0])  # two "voices"
    x[1, 15:] = 0.0
    lengths = torch.tensor([20, 15])
    assert torch.equal(mix_style(x, lengths, 0.0), x)
    moved = 0
    for _ in range(20):
        y = mix_style(x, lengths, 1.0)
        assert torch.all(y[1, 15:] == 0)  # padding stays zero
        for i, n in ((0, 20), (1, 15)):  # the frames keep their shape: only mean and spread change
            a, b = x[i, :n] - x[i, :n].mean(0), y[i, :n] - y[i, :n].mean(0)
            assert torch.allclose(a / a.std(0), b / b.std(0), atol=1e-3)
        moved += float((y[0, :20].mean() - 3.0).abs() > 0.5)
    assert moved > 0  # with 20 draws of Beta(0.1, 0.1), some mix far toward the other voice


def test_an_ensemble_of_one_decodes_exactly_as_its_member():
    model = small_model(5)
    alone = Ensemble([model]).eval()
    feats, lengths = torch.randn(5, 220, N_MELS) * 2, torch.tensor([220, 180, 120, 60, 25])
    for decode in (lambda m: greedy_decode(m, feats, lengths, VOCAB),
                   lambda m: beam_search(m, feats, lengths, VOCAB, beam=4, ctc_weight=0.3)):
        for a, b in zip(decode(model), decode(alone)):
            assert a.words == b.words and abs(a.score - b.score) < 1e-4
            assert abs(a.confidence - b.confidence) < 1e-4


def test_an_ensemble_takes_the_mean_of_its_members_log_probabilities():
    members = [small_model(1), small_model(2, enc_hidden=24)]  # widths may differ
    ensemble = Ensemble(members).eval()
    feats, lengths = torch.randn(3, 150, N_MELS), torch.tensor([150, 90, 40])
    memory, mask, _ = ensemble.encode(feats, lengths)
    assert memory.shape == (3, 19, 2 * 32 + 2 * 24)
    tokens = torch.full((3,), VOCAB.sos)
    joint, _ = ensemble.decoder.step(tokens, ensemble.decoder.start(memory, mask))
    own = []
    for m in members:
        mem, msk, _ = m.encode(feats, lengths)
        own.append(m.decoder.step(tokens, m.decoder.start(mem, msk))[0].log_softmax(-1))
        assert not torch.allclose(own[-1], joint, atol=1e-3)  # the members disagree
    assert torch.allclose(joint, (own[0] + own[1]) / 2, atol=1e-5)
    ctc = ensemble.ctc_log_probs(memory)
    assert torch.allclose(ctc.exp().sum(-1), torch.ones(3, 19), atol=1e-5)
    for h in beam_search(ensemble, feats, lengths, VOCAB, beam=3, ctc_weight=0.5):
        assert 1 <= h.number <= 999_999 and h.words in spoken_forms(h.number)
    try:
        Ensemble([small_model(1), small_model(2, n_mels=40)])
    except ValueError as e:
        assert "n_mels" in str(e)
    else:
        raise AssertionError("members with other features made an ensemble")


def test_ensemble_checkpoint_round_trip_and_refusals(tmp_path):
    members = [small_model(1), small_model(2)]
    for i, m in enumerate(members):
        checkpoint.save(tmp_path / f"m{i}.pt", m, VOCAB)
    checkpoint.save_ensemble(tmp_path / "e.pt", [tmp_path / "m0.pt", tmp_path / "m1.pt"])
    loaded, vocab, payload = checkpoint.load(tmp_path / "e.pt")
    assert isinstance(loaded, Ensemble) and len(loaded.members) == 2 and vocab.tokens == VOCAB.tokens
    assert [m["source"] for m in payload["members"]] == [str(tmp_path / "m0.pt"), str(tmp_path / "m1.pt")]
    for m, back in zip(members, loaded.members):  # stored in float16, loaded as float32
        for a, b in zip(m.state_dict().values(), back.state_dict().values()):
            assert b.dtype == a.dtype and torch.allclose(a, b, rtol=1e-3, atol=1e-4)
    size = lambda name: (tmp_path / name).stat().st_size  # noqa: E731
    assert size("e.pt") < 0.6 * (size("m0.pt") + size("m1.pt"))
    checkpoint.save(tmp_path / "narrow.pt", small_model(3, n_mels=40), VOCAB)
    other = torch.load(tmp_path / "m1.pt", weights_only=True)
    tokens = other["vocab"]["tokens"]
    tokens[3], tokens[4] = tokens[4], tokens[3]  # the same words, other ids
    torch.save(other, tmp_path / "other_vocab.pt")
    for names, message in [(["m0.pt"], "at least two"), (["m0.pt", "narrow.pt"], "n_mels"),
                           (["m0.pt", "other_vocab.pt"], "another vocabulary"),
                           (["m0.pt", "gone.pt"], "no such"),
                           (["m0.pt", "e.pt"], "not a seq2seq_asr.recognizer/1")]:
        try:
            checkpoint.save_ensemble(tmp_path / "bad.pt", [tmp_path / n for n in names])
        except checkpoint.CheckpointError as e:
            assert message in str(e)
        else:
            raise AssertionError(f"{names} made an ensemble")
    assert not (tmp_path / "bad.pt").exists()
