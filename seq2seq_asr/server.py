"""The HTTP service: a thin FastAPI layer over the Python API.

    POST /transcribe   body: the audio file itself (any Content-Type), or multipart/form-data
                       with the file in a field named `file`
                       -> 200 {"number": 231547, "words": "...", "confidence": 0.93}
                          (+ "gender", "gender_probability" when the service has a gender model)
                       -> 413 the upload is larger than the limit
                       -> 422 the audio cannot be transcribed (not audio, too long, too short,
                          silent, low confidence ...): {"detail": "why"}
    GET  /health       -> {"status": "ok", "model": ..., "batch_size": ..., ...}

The model is loaded once. Reading and features run in the thread pool, so the event loop never
blocks; requests that arrive together are decoded together, in one batch on one thread.
"""
import asyncio
import time
from contextlib import asynccontextmanager
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.formparsers import MultiPartException, MultiPartParser

from .api import Model
from .transcribe import Result


@dataclass
class Limits:
    max_bytes: int = 10 * 2**20  # upload size (413 above)
    max_seconds: float = 20.0  # audio duration (422 above)
    batch_size: int = 16  # requests decoded together at most
    batch_wait: float = 0.005  # seconds the first request of a batch waits for company


class TooLarge(Exception):
    pass


class Batcher:
    """Collects features from concurrent requests and decodes them in batches on one thread."""

    def __init__(self, model: Model, limits: Limits):
        self.model, self.limits = model, limits
        self.queue: asyncio.Queue = asyncio.Queue()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="decode")
        self.task: asyncio.Task | None = None

    async def decode(self, name: str, feats, audio) -> Result:
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((name, feats, audio, future))
        return await future

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self.queue.get()]
            deadline = loop.time() + self.limits.batch_wait
            while len(batch) < self.limits.batch_size:
                try:
                    batch.append(await asyncio.wait_for(self.queue.get(), deadline - loop.time()))
                except TimeoutError:
                    break
            names, feats, audio, futures = zip(*batch)
            try:
                results = await loop.run_in_executor(self.executor, self.model.decode, list(names),
                                                     list(feats), list(audio))
            except Exception as e:  # noqa: BLE001 - every waiting request gets the failure
                results = [Result(n, error=f"the model failed ({type(e).__name__})") for n in names]
            for future, result in zip(futures, results):
                if not future.done():
                    future.set_result(result)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, or TooLarge as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def audio_from(request: Request, body: bytes) -> bytes:
    """The audio bytes of a raw body or of a multipart form's `file` field."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return body

    async def once():
        yield body

    form = await MultiPartParser(request.headers, once()).parse()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise ValueError("multipart form without a file field named 'file'")
    return await upload.read()


def create_app(model: Model, limits: Limits = Limits()) -> FastAPI:
    batcher = Batcher(model, limits)
    started = time.time()

    @asynccontextmanager
    async def lifespan(app):
        batcher.task = asyncio.create_task(batcher.run())
        yield
        batcher.task.cancel()
        batcher.executor.shutdown(wait=False)

    app = FastAPI(title="seq2seq_asr", summary="Spoken Russian whole numbers to integers",
                  lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "model": str(model.path), "gender": model.gender_classifier is not None,
                "beam": model.options.beam, "tempos": list(model.options.tempos),
                "warps": list(model.options.warps), "batch_size": limits.batch_size,
                "max_bytes": limits.max_bytes, "max_seconds": limits.max_seconds,
                "uptime_s": round(time.time() - started, 1)}

    @app.post("/transcribe")
    async def transcribe(request: Request):
        """Send the audio file as the body, or as the `file` field of a multipart form."""
        try:
            body = await read_body(request, limits.max_bytes)
            audio = await audio_from(request, body)
        except TooLarge:
            return JSONResponse({"detail": f"the upload is larger than {limits.max_bytes} bytes"}, 413)
        except (ValueError, MultiPartException) as e:
            return JSONResponse({"detail": str(e)}, 422)
        feats, error = await run_in_threadpool(model.features, audio, None, limits.max_seconds)
        if error:
            return JSONResponse({"detail": error}, 422)
        result = await batcher.decode("<upload>", feats, audio)
        if result.error:
            return JSONResponse({"detail": result.error}, 422)
        answer = {"number": result.number, "words": result.words, "confidence": result.confidence}
        if result.gender:
            answer |= {"gender": result.gender, "gender_probability": result.gender_probability}
        return answer

    return app
