defmodule Nx.FloatingTest do
  use ExUnit.Case, async: true
  doctest Nx.Floating

  test "every non-NaN byte round-trips through load and dump" do
    for byte <- 0..255, byte not in [0x7F, 0xFF] do
      value = Nx.Floating.load_f8_e4m3fn(<<byte>>)
      assert Nx.Floating.dump_f8_e4m3fn(value) == <<byte>> or value == 0.0
    end
  end

  test "agrees with tensors of the type" do
    t = Nx.tensor([0.5, -1.75, 448.0], type: :f8_e4m3fn)
    assert Nx.to_binary(t) == Enum.map_join([0.5, -1.75, 448.0], &Nx.Floating.dump_f8_e4m3fn/1)
  end
end
