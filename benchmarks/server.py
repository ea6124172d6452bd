"""Throughput and latency of the HTTP service for 3-second clips at 1, 4 and 16 concurrent clients.

    python benchmarks/server.py [--requests 200] [--clients 1 --clients 4 --clients 16] [--threads 1]

Starts `seq2seq-asr serve` on a free localhost port (the model loaded once), sends WAV bodies
(the fixture clips cut or padded with silence to 3 s, 16 kHz) from asyncio clients, and reports
requests per second and p50/p95 latency. Run it while nothing else runs on the machine.
"""
import asyncio
import io
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx
import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
CLIP_SECONDS = 3.0


def three_second_wavs() -> list[bytes]:
    out = []
    for path in sorted((ROOT / "tests" / "fixtures" / "clips").glob("*.wav")):
        audio, rate = sf.read(path, dtype="float32")
        n = int(CLIP_SECONDS * rate)
        audio = np.pad(audio, (0, max(0, n - len(audio))))[:n]
        buf = io.BytesIO()
        sf.write(buf, audio, rate, format="WAV", subtype="PCM_16")
        out.append(buf.getvalue())
    return out


async def load(url: str, bodies: list[bytes], clients: int, requests: int) -> tuple[float, list[float], int]:
    latencies, errors, sent = [], 0, 0

    async def client(http: httpx.AsyncClient):
        nonlocal sent, errors
        while sent < requests:
            body = bodies[sent % len(bodies)]
            sent += 1
            start = time.perf_counter()
            answer = await http.post(url + "/transcribe", content=body)
            latencies.append(time.perf_counter() - start)
            errors += answer.status_code != 200

    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=clients)) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return time.perf_counter() - start, latencies, errors


@click.command()
@click.option("--requests", default=200, show_default=True)
@click.option("--clients", "levels", multiple=True, type=int, default=(1, 4, 16), show_default=True)
@click.option("--threads", default=1, show_default=True, help="Decoding threads of the server.")
def main(requests, levels, threads):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "seq2seq_asr.cli", "serve", "--port", str(port),
                               "--threads", str(threads)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(url + "/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        bodies = three_second_wavs()
        asyncio.run(load(url, bodies, 4, 20))  # warm up
        print(f"seq2seq-asr serve, {threads} decoding thread(s); {requests} requests of "
              f"{CLIP_SECONDS:g} s WAV per level\n")
        print("| concurrent clients | requests/s | p50 ms | p95 ms | non-200 |\n|---|---|---|---|---|")
        for clients in levels:
            seconds, lat, errors = asyncio.run(load(url, bodies, clients, requests))
            p50, p95 = np.percentile(lat, [50, 95]) * 1000
            print(f"| {clients} | {len(lat) / seconds:.1f} | {p50:.0f} | {p95:.0f} | {errors} |", flush=True)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
