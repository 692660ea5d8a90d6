"""The serving table in one command: dLLM decoders beside the AR baseline on one batch of mixed-length requests."""
import sys

import bench

if __name__ == "__main__":
    bench.main(["--repeat", "1", *sys.argv[1:]])
