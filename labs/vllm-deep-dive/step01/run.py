"""Build one of each message, send it through msgpack and back, and show what a bad value gets."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompt-len", type=int, default=8, help="tokens in the example prompt")
    args = parser.parse_args(argv)
    if args.prompt_len < 1:
        parser.error("--prompt-len must be at least 1")

    import msgspec
    from tabulate import tabulate

    import messages as m

    params = m.SamplingParams(max_tokens=4)
    prompt = list(range(3, 3 + args.prompt_len))
    examples = [
        m.EngineCoreRequest("req-0", prompt, params, arrival_time=1700000000.0),
        m.SchedulerOutput([m.NewRequestData("req-0", prompt, [0, 1], 0, params)], [],
                          {"req-0": args.prompt_len}),
        m.ModelRunnerOutput(["req-0"], [417]),
        m.EngineCoreOutput("req-0", [417]),
        m.RequestOutput("req-0", prompt, [417], [417]),
    ]
    enc, rows = m.encoder(), []
    for msg in examples:
        data = enc.encode(msg)
        back = m.decoder(type(msg)).decode(data)
        as_map = msgspec.msgpack.encode(msgspec.structs.asdict(msg))  # the same fields sent with their names
        rows.append([type(msg).__name__, len(data), len(as_map), "yes" if back == msg else "NO"])
    print(tabulate(rows, headers=["message", "msgpack bytes (array)", "bytes with field names", "round trip equal"]))

    bad = [
        ("SamplingParams(max_tokens=0)", lambda: m.SamplingParams(max_tokens=0)),
        ("SamplingParams(top_p=1.5)", lambda: m.SamplingParams(top_p=1.5)),
        ("SamplingParams(temperature=-1)", lambda: m.SamplingParams(temperature=-1)),
        ("EngineCoreRequest(prompt [])", lambda: m.EngineCoreRequest("r", [], params, 0.0)),
        ("EngineCoreRequest(prompt [-5])", lambda: m.EngineCoreRequest("r", [-5], params, 0.0)),
        ("ModelRunnerOutput(2 ids, 1 token)", lambda: m.ModelRunnerOutput(["a", "b"], [7])),
        ("EngineCoreOutput(finish 'done')", lambda: m.EngineCoreOutput("r", [], "done")),
        ("bytes: max_tokens -1", lambda: m.decoder(m.EngineCoreRequest).decode(
            msgspec.msgpack.encode(["r", [5], [-1], 0.0]))),
        ("bytes: a token id 'x'", lambda: m.decoder(m.EngineCoreRequest).decode(
            msgspec.msgpack.encode(["r", ["x"], [4], 0.0]))),
    ]
    rows = []
    for name, make in bad:
        try:
            make()
            rows.append([name, "ACCEPTED"])
        except (ValueError, msgspec.ValidationError) as e:
            rows.append([name, f"{type(e).__name__}: {e}"])
    print()
    print(tabulate(rows, headers=["bad value", "rejected with"]))
    return 0 if all(r[1] != "ACCEPTED" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
