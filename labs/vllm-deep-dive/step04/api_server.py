"""An OpenAI-compatible HTTP server in front of the engine core (FastAPI + uvicorn).

    python api_server.py --model DIR --port 8000

This process tokenizes, checks and detokenizes; the engine core (another
process, step03) schedules and runs the model. Routes: POST /v1/completions,
POST /v1/chat/completions (both with "stream": true as server-sent events),
GET /v1/models, GET /health, and GET /stats (the core's counters: running,
waiting, free KV blocks). A bad request gets a 4xx answer with an OpenAI-style
error body; a client that disconnects has its request aborted in the core.
"""
import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse

from async_llm import AsyncLLM
from protocol import APIError, ChatCompletionRequest, CompletionRequest, Detokenizer, check_prompt, sampling_params


def build_app(model_dir: str, served_model_name: str, **settings) -> FastAPI:
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    state = {}

    @asynccontextmanager
    async def lifespan(app):
        llm = state["llm"] = AsyncLLM(model_dir, **settings)
        try:
            await llm.start()
            print(f"ready: {served_model_name} (max_model_len {llm.limits['max_model_len']})", flush=True)
            yield
        finally:
            llm.shutdown()

    app = FastAPI(lifespan=lifespan)

    @app.exception_handler(APIError)
    async def api_error(request, e: APIError):
        return JSONResponse(e.body(), status_code=e.status)

    @app.exception_handler(RequestValidationError)
    async def invalid_body(request, e: RequestValidationError):
        first = e.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ())[1:])
        if first.get("type") == "json_invalid":
            message, where = f"malformed JSON in the request body: {first.get('ctx', {}).get('error', '')}", ""
        else:
            message = f"{where}: {first.get('msg')}"
        return JSONResponse(APIError(400, message, param=where or None).body(), status_code=400)

    @app.exception_handler(Exception)
    async def unexpected(request, e: Exception):  # a bug of ours: the answer says so, the server stays up
        return JSONResponse(APIError(500, f"internal error: {type(e).__name__}: {e}", "InternalServerError").body(),
                            status_code=500)

    def check_model(name: str) -> None:
        if name != served_model_name:
            raise APIError(404, f"The model `{name}` does not exist. This server has `{served_model_name}`.",
                           "NotFoundError", "model")

    def check_alive() -> AsyncLLM:
        llm = state["llm"]
        if llm.dead:
            raise APIError(503, f"the engine is not running: {llm.dead}", "ServiceUnavailableError")
        return llm

    @app.get("/health")
    async def health():
        check_alive()
        return {}

    @app.get("/v1/models")
    async def models():
        return {"object": "list", "data": [{"id": served_model_name, "object": "model", "created": 0,
                                            "owned_by": "vllm-deep-dive",
                                            "max_model_len": state["llm"].limits["max_model_len"]}]}

    @app.get("/stats")
    async def stats():
        return await check_alive().stats()

    @app.post("/v1/completions")
    async def completions(body: CompletionRequest, request: Request):
        check_model(body.model)
        llm = check_alive()
        ids = tokenizer(body.prompt)["input_ids"] if isinstance(body.prompt, str) else body.prompt
        return await serve(llm, body, request, ids, chat=False)

    @app.post("/v1/chat/completions")
    async def chat_completions(body: ChatCompletionRequest, request: Request):
        check_model(body.model)
        llm = check_alive()
        text = tokenizer.apply_chat_template([m.model_dump() for m in body.messages], tokenize=False,
                                             add_generation_prompt=True)
        return await serve(llm, body, request, tokenizer(text, add_special_tokens=False)["input_ids"], chat=True)

    async def serve(llm: AsyncLLM, body, request: Request, prompt_ids: list[int], chat: bool):
        limits = llm.limits
        check_prompt(prompt_ids, limits["vocab_size"], limits["max_model_len"])
        params = sampling_params(body, len(prompt_ids), limits["max_model_len"])
        rid = f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex[:16]}"
        head = {"id": rid, "object": "chat.completion" if chat else "text_completion", "created": int(time.time()),
                "model": served_model_name}
        outputs = llm.generate(prompt_ids, params)
        detok = Detokenizer(tokenizer, prompt_ids)
        if body.stream:
            return StreamingResponse(stream(outputs, detok, head, chat), media_type="text/event-stream")
        collect = asyncio.create_task(last_output(outputs))
        while not collect.done():  # a non-streaming client that leaves is noticed here
            await asyncio.wait({collect}, timeout=0.5)
            if not collect.done() and await request.is_disconnected():
                collect.cancel()  # the generator's finally aborts the request in the core
                return JSONResponse(APIError(499, "client disconnected").body(), status_code=499)
        out = collect.result()
        if out.finish_reason == "error":
            raise APIError(500, out.error, "InternalServerError")
        text = detok.step(out.token_ids)
        choice = {"index": 0, "finish_reason": out.finish_reason}
        choice |= {"message": {"role": "assistant", "content": text}} if chat else {"text": text, "logprobs": None}
        if body.return_token_ids:
            choice |= {"token_ids": out.token_ids, "prompt_token_ids": prompt_ids}
        usage = {"prompt_tokens": len(prompt_ids), "completion_tokens": len(out.token_ids),
                 "total_tokens": len(prompt_ids) + len(out.token_ids)}
        return {**head, "choices": [choice], "usage": usage}

    async def stream(outputs, detok: Detokenizer, head: dict, chat: bool):
        head = {**head, "object": "chat.completion.chunk" if chat else "text_completion"}
        try:
            if chat:
                yield sse({**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                                "finish_reason": None}]})
            async for out in outputs:
                if out.finish_reason == "error":
                    yield sse(APIError(500, out.error, "InternalServerError").body())
                    break
                text = detok.step(out.token_ids)
                choice = {"index": 0, "finish_reason": out.finish_reason}
                choice |= {"delta": {"content": text}} if chat else {"text": text, "logprobs": None}
                yield sse({**head, "choices": [choice]})
            yield "data: [DONE]\n\n"
        finally:
            await outputs.aclose()  # a client gone mid-stream: this aborts its request in the core

    return app


async def last_output(outputs):
    async for out in outputs:
        pass
    return out


def sse(data: dict) -> str:
    return f"data: {json.dumps(data)}\n\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a Hugging Face Qwen3 folder with a tokenizer (default: a tiny seeded one)")
    parser.add_argument("--served-model-name", default="tiny", help="the name clients put in 'model'")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-num-seqs", type=int, default=16, help="requests running at once")
    parser.add_argument("--num-kv-blocks", type=int, default=256, help="blocks in the KV pool")
    parser.add_argument("--block-size", type=int, default=16, help="token slots per block")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error("--port must be in 1..65535")
    if min(args.max_num_seqs, args.num_kv_blocks, args.block_size) < 1:
        parser.error("--max-num-seqs, --num-kv-blocks and --block-size must be at least 1")
    if args.model is None:
        from tiny_model import default_model_dir, make_tiny_qwen3
        args.model = str(make_tiny_qwen3(default_model_dir()))
    if not os.path.isfile(os.path.join(args.model, "config.json")):
        parser.error(f"--model {args.model}: no config.json there")
    app = build_app(args.model, args.served_model_name, max_num_seqs=args.max_num_seqs,
                    num_kv_blocks=args.num_kv_blocks, block_size=args.block_size)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
