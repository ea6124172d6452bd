"""The `seq2seq-asr` command: a thin layer over the Python API.

    seq2seq-asr a.wav b.mp3 recordings/      file<TAB>number<TAB>confidence per file
    seq2seq-asr --json a.wav                 one JSON object per file
    cat a.wav | seq2seq-asr -                one audio file from stdin
    seq2seq-asr serve --port 8000            the HTTP service (server.py)
    seq2seq-asr ensemble out.pt a.pt b.pt    several recognizers as one checkpoint

Folders are searched recursively for audio files. A file that cannot be transcribed is
reported on stderr as `file: why` (and printed with an empty number, or with "error" in JSON).
Exit codes: 0 every file transcribed, 1 some failed, 2 unusable arguments or model, 130 interrupted.
"""
import json
import sys
from pathlib import Path

import click

from normalizer.cli import EXIT_INTERRUPTED, EXIT_OK, EXIT_SOME_FAILED, Unusable

from . import api
from .checkpoint import CheckpointError
from .audio import HIGH_VOICE_HZ
from .transcribe import DEFAULT_GENDER_MODEL, DEFAULT_MODEL, TEMPO_RANGE, TEMPOS, WARP_RANGE, WARPS, Result

AUDIO_EXTENSIONS = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".aifc",
                    ".au", ".snd", ".caf", ".w64", ".rf64", ".voc"}
STDIN_LIMIT = 64 * 2**20  # bytes read from stdin at most


class DefaultCommandGroup(click.Group):
    """`seq2seq-asr FILES...` runs `transcribe`; a known command name runs that command."""

    def parse_args(self, ctx, args):
        if not args or args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["transcribe", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultCommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Spoken Russian whole numbers (1..999999) to integers.

    seq2seq-asr FILE|DIR|- ...  transcribes; seq2seq-asr serve  starts the HTTP service.
    """


def expand(inputs: tuple[str, ...]) -> list[str | Path]:
    """Paths as given; folders -> their audio files, recursively, sorted; '-' stays '-'."""
    out: list[str | Path] = []
    for item in inputs:
        path = Path(item)
        if item != "-" and path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file())
        else:
            out.append(item if item == "-" else path)
    return out


def read_stdin() -> bytes:
    data = sys.stdin.buffer.read(STDIN_LIMIT + 1)
    if len(data) > STDIN_LIMIT:
        raise Unusable(f"stdin: more than {STDIN_LIMIT // 2**20} MB of audio")
    return data


class Factors(click.ParamType):
    """"0.9,0.8,1.15" -> (0.9, 0.8, 1.15), each within low..high; "none" -> ()."""
    name = "factors"

    def __init__(self, low: float, high: float):
        self.low, self.high = low, high

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        if value.strip().lower() in ("none", ""):
            return ()
        try:
            factors = tuple(float(t) for t in value.split(","))
        except ValueError:
            self.fail(f"{value!r}: give numbers joined by commas (0.9,0.8), or none", param, ctx)
        if any(not self.low <= t <= self.high for t in factors):
            self.fail(f"{value!r}: every factor must lie within {self.low:g}..{self.high:g}", param, ctx)
        return factors


def search_options(f):
    """--tempos and --warps: how a doubtful clip is read again; --high-voice-hz: which voices are
    heard lowered (transcribe.Options)."""
    f = click.option("--high-voice-hz", default=HIGH_VOICE_HZ, show_default=True, type=click.FloatRange(0, 2000),
                     help="A doubtful clip whose voice's median pitch is above this is heard lowered, "
                          "its formants kept (the default: voices higher than 90 % of the corpus's); "
                          "0: never.")(f)
    f = click.option("--warps", default=",".join(map(str, WARPS)) or "none", show_default=True,
                     type=Factors(*WARP_RANGE),
                     help="Vocal tract warps a doubtful clip is read again at, in turn, each at every "
                          "tempo too (1.1: formants 10 % higher); none: never.")(f)
    return click.option("--tempos", default=",".join(map(str, TEMPOS)) or "none", show_default=True,
                        type=Factors(*TEMPO_RANGE),
                        help="Tempos a doubtful clip is read again at, in turn, until a reading is sure "
                             "(0.8: slowed down); none: never.")(f)


def model_options(f):
    """The options every door shares: which checkpoints, how to decode, how many threads."""
    for option in reversed([
        click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path),
                     default=DEFAULT_MODEL, show_default=True, help="Recognizer checkpoint."),
        click.option("--beam", default=4, show_default=True, type=click.IntRange(1, 64),
                     help="Beam width; 1 is greedy."),
        click.option("--min-confidence", default=0.0, show_default=True, type=click.FloatRange(0, 1),
                     help="Answers below this confidence fail as 'low confidence'."),
        search_options,
        click.option("--gender", is_flag=True, help="Also guess the speaker's gender."),
        click.option("--gender-model", type=click.Path(dir_okay=False, path_type=Path),
                     default=DEFAULT_GENDER_MODEL, show_default=True, help="Gender classifier checkpoint."),
        click.option("--threads", default=0, help="CPU threads for decoding (0: torch's default)."),
    ]):
        f = option(f)
    return f


def load_model(model_path, gender, gender_model, **options) -> api.Model:
    try:
        return api.load(model_path, gender=gender_model if gender else False, **options)
    except CheckpointError as e:
        raise Unusable(str(e)) from None


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file instead of TSV.")
@model_options
def transcribe(inputs, as_json, model_path, beam, min_confidence, tempos, warps, high_voice_hz, gender,
               gender_model, threads):
    """Print the number said in each audio FILE (folders: every audio file inside; -: stdin)."""
    sources = expand(inputs)
    if not sources:
        raise Unusable("no audio files found in " + ", ".join(inputs))
    if sources.count("-") > 1:
        raise Unusable("'-' (stdin) can be given once")
    model = load_model(model_path, gender, gender_model, beam=beam, min_confidence=min_confidence,
                       tempos=tempos, warps=warps, high_voice_hz=high_voice_hz,
                       threads=threads or None)
    stdin = read_stdin() if "-" in sources else None
    failed = 0
    try:
        results = model.stream([stdin if s == "-" else s for s in sources])
        for source, r in zip(sources, results):
            name = str(source)
            if r.error:
                failed += 1
                click.echo(f"{name}: {r.error}", err=True)
            click.echo(json.dumps(_json(name, r), ensure_ascii=False) if as_json else _tsv(name, r, gender))
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_SOME_FAILED if failed else EXIT_OK)


def _tsv(name: str, r: Result, gender: bool) -> str:
    cells = [name, "" if r.number is None else str(r.number),
             "" if r.number is None else f"{r.confidence:.4f}"]
    if gender:
        cells.append(r.gender or "")
    return "\t".join(cells)


def _json(name: str, r: Result) -> dict:
    out = {"file": name, **r.to_dict()}
    del out["source"]
    return {k: v for k, v in out.items() if v is not None or k in ("number", "error")}


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@model_options
@click.option("--max-mb", default=10.0, show_default=True, type=click.FloatRange(0.001),
              help="Largest upload accepted (413 above).")
@click.option("--max-seconds", default=20.0, show_default=True, type=click.FloatRange(0.5, 600),
              help="Longest audio accepted (422 above).")
@click.option("--batch-size", default=16, show_default=True, type=click.IntRange(1, 256),
              help="Requests decoded together at most.")
def serve(host, port, model_path, beam, min_confidence, tempos, warps, high_voice_hz, gender, gender_model,
          threads, max_mb, max_seconds, batch_size):
    """Serve POST /transcribe and GET /health over HTTP."""
    import uvicorn

    from .server import Limits, create_app

    model = load_model(model_path, gender, gender_model, beam=beam, min_confidence=min_confidence,
                       tempos=tempos, warps=warps, high_voice_hz=high_voice_hz,
                       threads=threads or None)
    app = create_app(model, Limits(int(max_mb * 2**20), max_seconds, batch_size))
    uvicorn.run(app, host=host, port=port, log_level="info")


@main.command()
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("members", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def ensemble(output, members):
    """Write the recognizer checkpoints MEMBERS as one ensemble checkpoint OUTPUT (for --model)."""
    try:
        api.save_ensemble(output, members)
    except CheckpointError as e:
        raise Unusable(str(e)) from None
    click.echo(f"{output}: an ensemble of {len(members)} recognizers ({output.stat().st_size / 2**20:.1f} MB)")


if __name__ == "__main__":
    main()
