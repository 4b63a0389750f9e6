defmodule Nx.SerializeTest do
  use ExUnit.Case, async: true

  alias Nx.ContainerFixtures.Layer

  doctest Nx.Serialize

  @types [:s2, :s4, :s8, :s16, :s32, :s64, :u2, :u4, :u8, :u16, :u32, :u64] ++
           [:f8, :f8_e4m3fn, :f16, :bf16, :f32, :f64, :c64, :c128]

  defp round_trip(value, opts \\ []),
    do: value |> Nx.serialize(opts) |> IO.iodata_to_binary() |> Nx.deserialize()

  defp assert_same(%Nx.Tensor{} = a, %Nx.Tensor{} = b) do
    assert {a.type, a.shape, a.names, a.vectorized_axes} ==
             {b.type, b.shape, b.names, b.vectorized_axes}

    assert Nx.to_binary(a) == Nx.to_binary(b)
  end

  describe "round trips" do
    test "every type, with names, as a scalar and empty" do
      for type <- @types do
        t = Nx.iota({2, 3}, type: type, names: [:rows, nil])
        assert_same(round_trip(t), t)
        assert_same(round_trip(t, compressed: 9), t)
        scalar = Nx.as_type(Nx.tensor(1), type)
        assert_same(round_trip(scalar), scalar)
        empty = Nx.reshape(Nx.from_binary(<<>>, type), {0, 4})
        assert_same(round_trip(empty), empty)
      end
    end

    test "containers: tuples, maps, nested, numbers, derived structs" do
      a = Nx.tensor([1, 2, 3])
      b = Nx.tensor([[1.5]], names: [:x, :y])

      assert {ra, %{"k" => rb, 3 => {rc}}} = round_trip({a, %{"k" => b, 3 => {7}}})
      assert_same(ra, a)
      assert_same(rb, b)
      assert_same(rc, Nx.tensor(7))

      assert_same(round_trip(2.5), Nx.tensor(2.5))
      assert_same(round_trip(Complex.new(1, 2)), Nx.tensor(Complex.new(1, 2)))
      assert round_trip({}) == {}
      assert round_trip(%{}) == %{}

      layer = %Layer{weights: a, bias: {b}, activation: :tanh, cache: :dropped}

      assert %Layer{weights: w, bias: {bias}, activation: :tanh, cache: :default} =
               round_trip(layer)

      assert_same(w, a)
      assert_same(bias, b)
    end

    test "vectorized tensors keep their vectorized axes" do
      base = Nx.iota({2, 3}, names: [:v, :y])
      t = %{base | shape: {3}, names: [:y], vectorized_axes: [v: 2]}
      assert %{vectorized_axes: [v: 2], shape: {3}, names: [:y]} = r = round_trip(t)
      assert Nx.to_binary(r) == Nx.to_binary(base)
    end

    test "values that are not tensors or containers are refused" do
      assert_raise ArgumentError, ~r/expects tensors/, fn -> Nx.serialize(:foo) end
      assert_raise ArgumentError, ~r/unknown option/, fn -> Nx.serialize(1, level: 1) end
    end
  end

  describe "Nx's layout" do
    test "the bytes are Nx's: prefix, version, byte order, term size, term, data" do
      t = Nx.tensor([[1, 2], [3, 4]], type: :s16, names: [:x, nil])
      data = Nx.to_binary(t)
      term = :erlang.term_to_binary({:t, {2, 2}, {:s, 16}, [:x, nil], [], 0, 8})
      order = if System.endianness() == :little, do: 0, else: 1
      expected = <<"nx", 1, order, byte_size(term)::64>> <> term <> data
      assert IO.iodata_to_binary(Nx.serialize(t)) == expected
    end

    test "containers are {impl, pairs, metadata} terms with offsets into the data" do
      container = {Nx.tensor(1, type: :u8), %{a: Nx.tensor([2, 3], type: :u8)}}
      binary = IO.iodata_to_binary(Nx.serialize(container))
      <<"nx", 1, _, size::64, term::binary-size(size), data::binary>> = binary

      assert :erlang.binary_to_term(term) ==
               {Nx.Container.Tuple,
                [
                  {[], {:t, {}, {:u, 8}, [], [], 0, 1}},
                  {[], {Nx.Container.Map, [a: {:t, {2}, {:u, 8}, [nil], [], 1, 2}], :ok}}
                ], :ok}

      assert data == <<1, 2, 3>>
    end

    test "reads data written in the other byte order" do
      values = [1.5, -2.0]
      data = for v <- values, into: <<>>, do: <<v::float-32-big>>
      complex = <<1.0::float-32-big, 2.0::float-32-big>>

      term =
        :erlang.term_to_binary(
          {Nx.Container.Tuple,
           [
             {[], {:t, {2}, {:f, 32}, [:x], [], 0, 8}},
             {[], {:t, {}, {:c, 64}, [], [], 8, 8}},
             {[], {:t, {2}, {:u, 8}, [nil], [], 16, 2}}
           ], :ok}
        )

      bin = <<"nx", 1, 1, byte_size(term)::64>> <> term <> data <> complex <> <<7, 9>>
      {f, c, u} = Nx.deserialize(bin)
      assert Nx.to_list(f) == values
      assert f.names == [:x]
      assert Nx.to_number(c) == Complex.new(1.0, 2.0)
      assert Nx.to_list(u) == [7, 9]
    end

    test "reads the format of Nx 0.5 and earlier" do
      little = <<1::32-little, 2::32-little>>

      legacy =
        :erlang.term_to_binary(
          {1, :little,
           {:container,
            {{:tensor, {2}, {:s, 32}, [:i], little},
             {:container, %{w: {:tensor, {}, {:u, 8}, [], <<5>>}}}}}}
        )

      assert {t, %{w: w}} = Nx.deserialize(legacy)
      assert Nx.to_list(t) == [1, 2]
      assert t.names == [:i]
      assert Nx.to_number(w) == 5
    end

    test "iodata input and the :safe option" do
      iodata = Nx.serialize(Nx.tensor([1, 2]))
      assert Nx.to_list(Nx.deserialize(iodata, [:safe])) == [1, 2]
      assert_raise ArgumentError, ~r/only accepts/, fn -> Nx.deserialize(iodata, [:used]) end
    end
  end

  describe "untrusted input" do
    defp forge(term, data) do
      term = :erlang.term_to_binary(term)
      <<"nx", 1, 0, byte_size(term)::64>> <> term <> data
    end

    test "unknown atoms are refused without being created" do
      name = "nx_serialize_unknown_axis_#{System.unique_integer([:positive])}"
      # Build the external term by hand: an atom that does not exist in this VM.
      atom_ext = <<100, byte_size(name)::16>> <> name

      tensor =
        :erlang.term_to_binary({:t, {1}, {:u, 8}, [:placeholder], [], 0, 1}, minor_version: 1)

      term = :binary.replace(tensor, <<100, 11::16, "placeholder">>, atom_ext)
      assert term != tensor

      assert_raise ArgumentError, ~r/atoms that do not exist/, fn ->
        Nx.deserialize(<<"nx", 1, 0, byte_size(term)::64>> <> term <> <<1>>)
      end

      assert_raise ArgumentError, fn -> String.to_existing_atom(name) end
    end

    test "sizes are checked against shape and type" do
      assert_raise ArgumentError, ~r/needs 6 bytes, the data claims 4/, fn ->
        Nx.deserialize(forge({:t, {3}, {:s, 16}, [nil], [], 0, 4}, <<0::48>>))
      end

      assert_raise ArgumentError, ~r/truncated/, fn ->
        Nx.deserialize(forge({:t, {3}, {:s, 16}, [nil], [], 0, 6}, <<0::32>>))
      end

      assert_raise ArgumentError, ~r/truncated/, fn ->
        Nx.deserialize(
          forge({:t, {1_000_000_000_000}, {:f, 64}, [nil], [], 0, 8_000_000_000_000}, <<>>)
        )
      end
    end

    test "malformed descriptions are refused" do
      bad = [
        {:t, {-1}, {:u, 8}, [nil], [], 0, 0},
        {:t, {1}, {:u, 7}, [nil], [], 0, 1},
        {:t, {1}, {:u, 8}, [], [], 0, 1},
        {:t, {1}, {:u, 8}, ["x"], [], 0, 1},
        {:t, {1}, {:u, 8}, [:x], [y: 1], 0, 1},
        {:t, [1], {:u, 8}, [nil], [], 0, 1},
        {:t, {1}, {:u, 8}, [nil], [], -1, 1},
        {Nx.Container.Tuple, [:not_a_pair], :ok},
        {Nx.Container.Tuple, [], :not_ok},
        {Enum, [], []},
        {Nx.Container.Enum, [], []},
        {Nx.Container.Atom, [], []},
        {Nx.Container.Nx.ContainerFixtures.Layer, [unknown_field: 1], []},
        :nope
      ]

      for term <- bad do
        assert_raise ArgumentError, fn -> Nx.deserialize(forge(term, <<0>>)) end
      end
    end

    test "headers: versions, byte order, truncation, trailing bytes, compression bombs" do
      valid = IO.iodata_to_binary(Nx.serialize(Nx.tensor([1])))
      <<"nx", 1, order, size::64, term::binary-size(size), data::binary>> = valid

      assert_raise ArgumentError, "cannot deserialize Nx format v2", fn ->
        Nx.deserialize(<<"nx", 2, order>>)
      end

      assert_raise ArgumentError, ~r/byte order/, fn ->
        Nx.deserialize(<<"nx", 1, 7, size::64>> <> term <> data)
      end

      assert_raise ArgumentError, ~r/truncated/, fn ->
        Nx.deserialize(<<"nx", 1, order, size + 100::64>> <> term)
      end

      assert_raise ArgumentError, fn ->
        padded = term <> <<0>>
        Nx.deserialize(<<"nx", 1, order, byte_size(padded)::64>> <> padded <> data)
      end

      bomb = <<131, 80, 0xFFFFFFFF::32, 120, 156, 1, 2, 3>>

      assert_raise ArgumentError, ~r/impossible size/, fn ->
        Nx.deserialize(<<"nx", 1, order, byte_size(bomb)::64>> <> bomb)
      end

      assert_raise ArgumentError, ~r/iodata/, fn -> Nx.deserialize(:atom) end
    end
  end
end
