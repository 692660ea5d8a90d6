"""The front end: prompts in, RequestOutputs out, through an engine-core client.

add_request() builds the EngineCoreRequest (a bad setting fails here, in the
caller's hands); step() takes one batch of EngineCoreOutputs (token deltas) and
the OutputProcessor folds them into RequestOutputs: the tokens so far, the new
ones, and whether the request is done. generate() loops until all are done.
"""
import itertools
import time

from core_client import InprocClient, MPClient
from messages import EngineCoreOutput, EngineCoreRequest, RequestOutput, SamplingParams

__all__ = ["LLM", "SamplingParams", "RequestOutput"]


class OutputProcessor:
    def __init__(self):
        self.prompts: dict[str, list[int]] = {}  # unfinished requests: id -> prompt
        self.tokens: dict[str, list[int]] = {}   # id -> tokens generated so far

    def add_request(self, request: EngineCoreRequest) -> None:
        self.prompts[request.request_id] = list(request.prompt_token_ids)
        self.tokens[request.request_id] = []

    def has_unfinished_requests(self) -> bool:
        return bool(self.prompts)

    def process_outputs(self, outputs: list[EngineCoreOutput]) -> list[RequestOutput]:
        results = []
        for out in outputs:
            if out.request_id not in self.prompts:
                continue  # aborted here already; the core's last word about it comes late
            tokens = self.tokens[out.request_id]
            tokens.extend(out.new_token_ids)
            finished = out.finish_reason is not None
            results.append(RequestOutput(out.request_id, self.prompts[out.request_id], list(tokens),
                                         list(out.new_token_ids), finished, out.finish_reason, out.error))
            if finished:
                del self.prompts[out.request_id], self.tokens[out.request_id]
        return results


class LLM:
    """Prompts are lists of token ids. generate() returns the final RequestOutputs in prompt order."""

    def __init__(self, model_dir, multiprocess: bool = False, **settings):
        self.client = MPClient(model_dir, **settings) if multiprocess else self.make_client(model_dir, **settings)
        self.output_processor = OutputProcessor()
        self._ids = itertools.count()

    def make_client(self, model_dir, **settings):
        return InprocClient(model_dir, **settings)

    def add_request(self, prompt_token_ids: list[int], params: SamplingParams, request_id: str | None = None) -> str:
        request = EngineCoreRequest(request_id or f"req-{next(self._ids)}", list(prompt_token_ids), params,
                                    time.time())
        self.output_processor.add_request(request)
        self.client.add_request(request)
        return request.request_id

    def abort(self, request_ids: list[str]) -> None:
        self.client.abort_requests(request_ids)

    def has_unfinished_requests(self) -> bool:
        return self.output_processor.has_unfinished_requests()

    def step(self) -> list[RequestOutput]:
        return self.output_processor.process_outputs(self.client.get_output())

    def generate(self, prompts: list[list[int]], params: SamplingParams | list[SamplingParams]) -> list[RequestOutput]:
        if not isinstance(params, list):
            params = [params] * len(prompts)
        ids = [self.add_request(p, sp) for p, sp in zip(prompts, params, strict=True)]
        final = {}
        while self.has_unfinished_requests():
            for out in self.step():
                if out.finished:
                    final[out.request_id] = out
        return [final[i] for i in ids]

    def shutdown(self) -> None:
        self.client.shutdown()
