"""The client side of the engine core: how the front end reaches it.

InprocClient calls an EngineCore in this process: get_output() runs one step.
(vLLM's LLMEngine uses the same interface; step03 adds a client whose core runs
in another process.)
"""
from engine_core import EngineCore
from messages import EngineCoreOutput, EngineCoreRequest


class InprocClient:
    def __init__(self, model_dir, **settings):
        self.core = EngineCore(model_dir, **settings)

    def add_request(self, request: EngineCoreRequest) -> None:
        self.core.add_request(request)

    def abort_requests(self, request_ids: list[str]) -> None:
        self.core.abort_requests(request_ids)

    def get_output(self) -> list[EngineCoreOutput]:
        return self.core.step()

    def shutdown(self) -> None:
        pass
