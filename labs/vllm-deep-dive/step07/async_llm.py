"""The asyncio front end of the API server: many requests in flight, one engine core.

One background task (the output handler) reads every EngineCoreOutput from the
core's socket, folds it into a RequestOutput (OutputProcessor) and puts it on
the queue of its request. Each HTTP request iterates its own queue. When an HTTP
request goes away early (the client disconnected, its task was cancelled), the
generator's finally block aborts it in the core, so its KV blocks are freed.
"""
import asyncio
import itertools
import time
from collections.abc import AsyncIterator

from core_client import AsyncMPClient
from llm import OutputProcessor
from messages import EngineCoreRequest, RequestOutput, SamplingParams


class AsyncLLM:
    def __init__(self, model_dir, **settings):
        self.client = AsyncMPClient(model_dir, **settings)
        self.output_processor = OutputProcessor()
        self.queues: dict[str, asyncio.Queue] = {}
        self.handler: asyncio.Task | None = None
        self.limits: dict = {}
        self._ids = itertools.count()

    async def start(self, timeout: float = 120.0) -> None:
        """Wait for the core's first answer (it carries max_model_len and vocab_size), then start the handler."""
        await self.client.request_stats()
        deadline = time.monotonic() + timeout
        while self.client.last_stats is None:
            await self.client.get_output(timeout=0.1)
            if self.client.dead or time.monotonic() > deadline:
                raise RuntimeError(self.client.dead or f"the engine core did not start within {timeout} s")
        self.limits = dict(self.client.last_stats)
        self.handler = asyncio.create_task(self.output_handler())

    @property
    def dead(self) -> str | None:
        return self.client.dead

    async def output_handler(self) -> None:
        while True:
            outs = await self.client.get_output(timeout=1.0)
            for out in self.output_processor.process_outputs(outs):
                queue = self.queues.get(out.request_id)
                if queue is not None:
                    queue.put_nowait(out)

    async def stats(self) -> dict:
        self.client.last_stats = None
        await self.client.request_stats()
        for _ in range(100):  # the handler's loop stores the answer
            if self.client.last_stats is not None or self.client.dead:
                break
            await asyncio.sleep(0.01)
        return self.client.last_stats or {}

    async def generate(self, prompt_token_ids: list[int], params: SamplingParams) -> AsyncIterator[RequestOutput]:
        request = EngineCoreRequest(f"req-{next(self._ids)}", prompt_token_ids, params, time.time())
        rid, queue = request.request_id, asyncio.Queue()
        self.queues[rid] = queue
        self.output_processor.add_request(request)
        finished = False
        try:
            await self.client.add_request(request)
            while not finished:
                out = await queue.get()
                finished = out.finished
                yield out
        finally:
            del self.queues[rid]
            if not finished:  # the caller left early: free the request's blocks in the core
                self.output_processor.prompts.pop(rid, None)
                self.output_processor.tokens.pop(rid, None)
                self.client.abort_requests_nowait([rid])

    def shutdown(self) -> None:
        if self.handler:
            self.handler.cancel()
        self.client.shutdown()
