"""The engine core: a loop that takes and gives only messages.

    add_request(EngineCoreRequest)    a new request joins the scheduler's waiting queue
    abort_requests([id, ...])         a request leaves early; its KV blocks are freed at once
    step() -> [EngineCoreOutput]      schedule -> SchedulerOutput -> model runner -> ModelRunnerOutput
                                      -> one new token (a delta) per running request

Inside it is the engine of nano-vLLM (scheduler, block manager, model runner);
outside, nobody sees a Sequence or a block table, only the messages. This is
the part of vLLM that runs in its own process (step03).
"""
from engine import LLMEngine
from messages import (CachedRequestData, EngineCoreOutput, EngineCoreRequest, ModelRunnerOutput, NewRequestData,
                      SamplingParams, SchedulerOutput)
from sequence import SamplingParams as EngineParams
from sequence import Sequence


class EngineCore:
    def __init__(self, model_dir, **settings):
        self.engine = LLMEngine(model_dir, **settings)  # scheduler + block manager + model runner
        self.requests: dict[str, Sequence] = {}   # request id -> its state, while it runs
        self.ids: dict[int, str] = {}              # seq_id -> request id
        self.blocks_sent: dict[str, int] = {}      # request id -> blocks the model runner was told about
        self.pending: list[EngineCoreOutput] = []  # rejections and aborts, sent with the next step
        self.finished_req_ids: list[str] = []      # gone since the last SchedulerOutput
        self.last_scheduler_output: SchedulerOutput | None = None  # kept for tracing and tests
        self.num_aborted = 0

    def add_request(self, request: EngineCoreRequest) -> None:
        rid, sp = request.request_id, request.sampling_params
        if rid in self.requests:
            self.pending.append(EngineCoreOutput(rid, [], "error", f"request id {rid!r} is already running"))
            return
        params = EngineParams(max_tokens=sp.max_tokens, ignore_eos=sp.ignore_eos, temperature=sp.temperature,
                              seed=sp.seed, top_k=sp.top_k, top_p=sp.top_p)
        seq = self.engine.add_request(list(request.prompt_token_ids), params)
        if seq.is_finished:  # rejected by the engine (too long, a token outside the vocabulary, ...)
            self.pending.append(EngineCoreOutput(rid, [], "error", seq.error))
            return
        self.requests[rid], self.ids[seq.seq_id] = seq, rid

    def abort_requests(self, request_ids: list[str]) -> None:
        scheduler = self.engine.scheduler
        for rid in request_ids:
            seq = self.requests.get(rid)
            if seq is None:
                continue  # finished already, or never here: nothing to free
            if seq in scheduler.waiting:
                scheduler.waiting.remove(seq)
            if seq in scheduler.running:
                scheduler.running.remove(seq)
            self.engine.block_manager.deallocate(seq)
            seq.finish("abort")
            self.num_aborted += 1
            self.forget(rid)
            self.pending.append(EngineCoreOutput(rid, [], "abort"))

    def has_unfinished_requests(self) -> bool:
        return bool(self.requests or self.pending)

    def step(self) -> list[EngineCoreOutput]:
        outputs, self.pending = self.pending, []
        if self.engine.scheduler.is_finished():
            return outputs
        seqs, is_prefill = self.engine.scheduler.schedule()
        if not seqs:  # every running request was preempted; the next step prefills again
            return outputs
        scheduler_output = self.make_scheduler_output(seqs, is_prefill)
        runner_output = self.execute_model(scheduler_output, seqs, is_prefill)
        return outputs + self.update_from_output(seqs, runner_output)

    def make_scheduler_output(self, seqs: list[Sequence], is_prefill: bool) -> SchedulerOutput:
        new, cached, num_tokens = [], [], {}
        for seq in seqs:
            rid = self.ids[seq.seq_id]
            if is_prefill:  # new, or recomputed after a preemption: the runner gets everything
                sp = self.requests[rid].params
                new.append(NewRequestData(rid, list(seq.token_ids), list(seq.block_table), seq.num_cached_tokens,
                                          self.message_params(sp)))
                num_tokens[rid] = seq.num_tokens - seq.num_cached_tokens
            else:  # the runner knows it: only blocks added since the last step
                cached.append(CachedRequestData(rid, seq.block_table[self.blocks_sent[rid]:], seq.num_tokens - 1))
                num_tokens[rid] = 1
            self.blocks_sent[rid] = len(seq.block_table)
        out = SchedulerOutput(new, cached, num_tokens, self.finished_req_ids)
        self.finished_req_ids, self.last_scheduler_output = [], out
        return out

    @staticmethod
    def message_params(sp: EngineParams) -> SamplingParams:
        return SamplingParams(max_tokens=sp.max_tokens, temperature=sp.temperature, top_k=sp.top_k, top_p=sp.top_p,
                              seed=sp.seed, ignore_eos=sp.ignore_eos)

    def execute_model(self, scheduler_output: SchedulerOutput, seqs: list[Sequence], is_prefill: bool
                      ) -> ModelRunnerOutput:
        """One forward pass; here the model runner is in this process and reads the requests directly."""
        sampled = self.engine.model_runner.run(seqs, is_prefill)
        return ModelRunnerOutput([self.ids[seq.seq_id] for seq in seqs], sampled)

    def update_from_output(self, seqs: list[Sequence], runner_output: ModelRunnerOutput) -> list[EngineCoreOutput]:
        assert runner_output.req_ids == [self.ids[seq.seq_id] for seq in seqs], "the runner answered out of order"
        e = self.engine
        e.scheduler.postprocess(seqs, runner_output.sampled_token_ids, e.eos_token_id, e.max_model_len)
        outputs = []
        for seq, rid, token in zip(seqs, runner_output.req_ids, runner_output.sampled_token_ids):
            outputs.append(EngineCoreOutput(rid, [token], seq.finish_reason if seq.is_finished else None))
            if seq.is_finished:
                self.forget(rid)
        return outputs

    def forget(self, rid: str) -> None:
        seq = self.requests.pop(rid)
        del self.ids[seq.seq_id]
        if self.blocks_sent.pop(rid, None) is not None:  # the runner held it: tell it to let go
            self.finished_req_ids.append(rid)

    def stats(self) -> dict:
        """Counts a server can show: what runs, what waits, free KV blocks, and the limits a request must fit."""
        bm, s = self.engine.block_manager, self.engine.scheduler
        return dict(num_running=len(s.running), num_waiting=len(s.waiting), num_free_blocks=bm.num_free_blocks,
                    num_blocks=len(bm.blocks), num_preemptions=s.num_preemptions, num_aborted=self.num_aborted,
                    max_model_len=self.engine.max_model_len, vocab_size=self.engine.config.vocab_size)
