"""Shape checks shared by the kernels: a grid only covers sizes that its blocks divide."""


def check_blocks(n: int, block: int, what: str) -> None:
    if block < 1 or n % block:
        raise ValueError(f"{what} {n} is not a multiple of the block size {block}")
