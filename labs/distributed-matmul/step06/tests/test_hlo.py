"""The HLO reader on lines written the ways XLA prints them (hand-checked numbers)."""
import pytest

from hlo import collectives, shape_bytes

PROGRAM = """\
HloModule m
ENTRY %main {
  %param.1 = f32[2,16]{1,0} parameter(0)
  %ag = f32[8,16]{1,0} all-gather(%param.1), channel_id=1, replica_groups={{0,2,4,6},{1,3,5,7}}, dimensions={0}
  %ag2 = bf16[64,32]{0,1} all-gather(%param.1), replica_groups=mesh['axis_0'=1,'axis_1'=4,'axis_2'=2] {'axis_1'}, dimensions={1}
  %ar = f32[2,16]{1,0} all-reduce(f32[2,16]{1,0} %param.1), replica_groups=[1,8]<=[8], to_apply=%add
  %rs = f32[1,16]{1,0} reduce-scatter(%param.1), replica_groups={}, dimensions={0}, to_apply=%add
  %gte = f32[1,16]{1,0} get-tuple-element(%a2a), index=0
  %cp = f32[2,16]{1,0} collective-permute(%param.1), source_target_pairs={{0,1},{1,2},{2,3},{3,0}}
  ROOT %t = (f32[2,16]{1,0}) tuple(%cp)
}
"""


def test_shape_bytes():
    assert shape_bytes("f32[8,16]{1,0}") == 512
    assert shape_bytes("bf16[3]") == 6
    assert shape_bytes("f32[]") == 4
    assert shape_bytes("(f32[1,16]{1,0}, /*index=1*/f32[1,16]{1,0})") == 128
    with pytest.raises(ValueError):
        shape_bytes("q7[2]")


def test_collectives_are_read_with_their_groups_and_operands():
    found = collectives(PROGRAM, n_devices=8)
    assert [c.op for c in found] == ["all-gather", "all-gather", "all-reduce", "reduce-scatter", "collective-permute"]
    ag, ag2, ar, rs, cp = found
    assert (ag.operand_bytes, ag.result_bytes, ag.group_size, ag.n_groups) == (128, 512, 4, 2)
    assert (ag2.result_bytes, ag2.group_size, ag2.n_groups) == (64 * 32 * 2, 4, 2)
    assert (ar.operand_bytes, ar.group_size, ar.n_groups) == (128, 8, 1)
    assert (rs.result_bytes, rs.group_size) == (64, 8)
    assert (cp.operand_bytes, cp.group_size) == (128, 4)
    # bytes one device sends on a ring of k
    assert ag.bytes_sent == 3 * 128 == 384
    assert ar.bytes_sent == 2 * 7 * 128 / 8 == 224
    assert rs.bytes_sent == 7 * 64
    assert cp.bytes_sent == 128


def test_a_line_that_only_mentions_a_collective_is_not_one():
    assert collectives("  %gte = f32[1]{0} get-tuple-element(%all-gather), index=0\n") == []
