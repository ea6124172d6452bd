import pandas as pd
from click.testing import CliRunner

from normalizer.cli import main


def run(tmp_path, text, *args, name="train.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, [str(path), *args])
    return result, path


def test_public_layout_keeps_every_column(tmp_path):
    text = ("filename,transcription,spk_id,gender,ext,samplerate\n"
            "a.wav,231547,spk1,female,wav,24000\nb.wav,1000,spk2,male,mp3,16000\n")
    result, path = run(tmp_path, text)
    assert result.exit_code == 0, result.output
    out = pd.read_csv(tmp_path / "train_norm.csv", dtype=str)
    assert list(out.columns) == ["filename", "transcription", "spk_id", "gender", "ext",
                                 "samplerate", "words"]
    assert out["words"].tolist() == ["двести тридцать одна тысяча пятьсот сорок семь", "тысяча"]
    assert out["spk_id"].tolist() == ["spk1", "spk2"]


def test_bare_layout_and_output_option(tmp_path):
    result, _ = run(tmp_path, "filename,number\nx.wav,21000\n", "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 0
    assert pd.read_csv(tmp_path / "o.csv")["words"].tolist() == ["двадцать одна тысяча"]


def test_bad_rows_are_listed_and_kept(tmp_path):
    text = "filename,transcription\na.wav,12\nb.wav,abc\nc.wav,\nd.wav,0\ne.wav,1000000\nf.wav,3.5\n"
    result, _ = run(tmp_path, text)
    assert result.exit_code == 1
    for row in (3, 4, 5, 6, 7):
        assert f"row {row}:" in result.output
    assert "6 rows, 1 normalized, 5 bad" in result.output
    out = pd.read_csv(tmp_path / "train_norm.csv", dtype=str, keep_default_na=False)
    assert len(out) == 6 and out["words"].tolist()[0] == "двенадцать"


def test_malformed_csvs_fail_with_a_message(tmp_path):
    for text, message in [("", "empty"), ("filename,spk_id\na.wav,x\n", "no number column"),
                          ('filename,number\n"a.wav,5\n', "not a readable CSV")]:
        result, _ = run(tmp_path, text)
        assert result.exit_code != 0 and message in result.output, (text, result.output)
        assert "Traceback" not in result.output
    result = CliRunner().invoke(main, [str(tmp_path / "missing.csv")])
    assert result.exit_code != 0 and "no such file" in result.output
