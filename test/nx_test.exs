defmodule NxTest do
  use ExUnit.Case, async: true

  doctest Nx
  doctest Nx.Backend

  describe "default backend" do
    test "is Nx.Torch.Backend on the CPU unless configured" do
      assert {Nx.Torch.Backend, [device: :cpu]} = Nx.default_backend()
    end

    test "with_default_backend restores the previous one even on errors" do
      previous = Nx.default_backend()

      assert_raise RuntimeError, fn ->
        Nx.with_default_backend({Nx.Torch.Backend, device: :cpu}, fn -> raise "boom" end)
      end

      assert Nx.default_backend() == previous
    end

    test "invalid backends raise" do
      assert_raise ArgumentError, fn -> Nx.default_backend("nope") end
      assert_raise ArgumentError, fn -> Nx.default_backend(Enum) end

      assert_raise ArgumentError, fn ->
        Nx.tensor([1], backend: {Nx.Torch.Backend, device: :tpu})
      end
    end
  end

  describe "introspection" do
    test "names, axes and sizes" do
      t = Nx.iota({2, 3, 4}, names: [:a, nil, :c])
      assert Nx.rank(t) == 3
      assert Nx.size(t) == 24
      assert Nx.axes(t) == [0, 1, 2]
      assert Nx.axis_index(t, :c) == 2
      assert Nx.axis_size(t, :a) == 2
      assert Nx.byte_size(t) == 96
      assert_raise ArgumentError, fn -> Nx.axis_index(t, :b) end
    end
  end

  describe "inspect" do
    test "prints exactly as Nx 0.13" do
      t = Nx.tensor([[1, 2], [3, 4]], names: [:x, :y]) |> Nx.as_type(:f32)

      assert inspect(t) == """
             #Nx.Tensor<
               f32[x: 2][y: 2]
               [
                 [1.0, 2.0],
                 [3.0, 4.0]
               ]
             >\
             """
    end

    test "floats print with the shortest digits of their own type" do
      assert inspect(Nx.tensor([0.1, 1 / 3])) =~ "[0.1, 0.33333334]"
      assert inspect(Nx.tensor([0.1, 1 / 3], type: :f64)) =~ "[0.1, 0.3333333333333333]"
    end
  end
end
