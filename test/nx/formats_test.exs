defmodule Nx.FormatsTest do
  # NumPy (.npy, .npz) and safetensors, against files written by NumPy and the safetensors
  # package (test/fixtures/gen_formats.py) and through our own writers.
  use ExUnit.Case, async: true

  doctest Nx.NumPy
  doctest Nx.Safetensors
  doctest Nx.Safetensors.JSON

  @dir Path.expand("../fixtures/formats", __DIR__)

  @numpy %{
    "bool" => {:u, 8},
    "int8" => {:s, 8},
    "int16" => {:s, 16},
    "int32" => {:s, 32},
    "int64" => {:s, 64},
    "uint8" => {:u, 8},
    "uint16" => {:u, 16},
    "uint32" => {:u, 32},
    "uint64" => {:u, 64},
    "float16" => {:f, 16},
    "float32" => {:f, 32},
    "float64" => {:f, 64},
    "complex64" => {:c, 64},
    "complex128" => {:c, 128}
  }

  defp fixture(name), do: File.read!(Path.join(@dir, name))

  # The generator's values: arange(6) reshaped to (2, 3), per dtype kind.
  defp expected(dtype) do
    values =
      cond do
        dtype == "bool" -> Enum.map(0..5, &if(rem(&1, 2) == 0, do: 1, else: 0))
        String.starts_with?(dtype, ["int", "uint"]) -> Enum.to_list(0..5)
        String.starts_with?(dtype, "float") -> Enum.map(0..5, &(&1 * 0.5 - 1))
        true -> Enum.map(0..5, &Complex.new(&1 * 1.0, &1 * 2.0))
      end

    Enum.chunk_every(values, 3)
  end

  defp types_for_numpy,
    do: [:s8, :s16, :s32, :s64, :u8, :u16, :u32, :u64, :f16, :f32, :f64, :c64, :c128]

  describe "load_numpy!/1 on NumPy's files" do
    test "every dtype, little and big endian" do
      for {dtype, type} <- @numpy, suffix <- ["", "_be"] do
        name = "#{dtype}#{suffix}.npy"

        if File.exists?(Path.join(@dir, name)) do
          t = Nx.load_numpy!(fixture(name))
          assert Nx.type(t) == type, name
          assert Nx.to_list(t) == expected(dtype), name
        else
          assert suffix == "_be" and dtype in ["bool", "int8", "uint8"]
        end
      end
    end

    test "Fortran order, scalars, empty arrays, format versions 2 and 3" do
      assert Nx.to_list(Nx.load_numpy!(fixture("fortran.npy"))) == Nx.to_list(Nx.iota({2, 3, 4}))
      scalar = Nx.load_numpy!(fixture("scalar.npy"))
      assert {scalar.shape, Nx.to_number(scalar)} == {{}, 2.5}
      empty = Nx.load_numpy!(fixture("empty.npy"))
      assert {empty.shape, empty.type} == {{0, 3}, {:f, 32}}
      assert Nx.to_list(Nx.load_numpy!(fixture("v2.npy"))) == expected("int32")
      assert Nx.to_list(Nx.load_numpy!(fixture("v3.npy"))) == expected("float32")
    end

    test "headers are parsed as Python literals" do
      npy = fn header, data ->
        <<0x93, "NUMPY", 1, 0, byte_size(header)::16-little>> <> header <> data
      end

      t =
        Nx.load_numpy!(
          npy.(~s[{"shape": (2, 1), "fortran_order": False, "descr": "<u2"}\n], <<1, 0, 2, 0>>)
        )

      assert Nx.to_list(t) == [[1], [2]]

      t =
        Nx.load_numpy!(npy.("{'descr':'>i4','fortran_order':True,'shape':(1,)}", <<-3::32-big>>))

      assert Nx.to_list(t) == [-3]

      for header <- [
            "{'descr': '<f4', 'fortran_order': False}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",
            "{'descr': '<U3', 'fortran_order': False, 'shape': (1,)}",
            "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}",
            "{'descr': '|f4', 'fortran_order': False, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)",
            "{'descr': '<f4\\n', 'fortran_order': False, 'shape': (1,)}",
            String.duplicate("(", 100)
          ] do
        assert_raise ArgumentError, ~r/unable to parse NumPy file/, fn ->
          Nx.load_numpy!(npy.(header, <<0::32>>))
        end
      end

      assert_raise ArgumentError, ~r/holds 3 bytes/, fn ->
        Nx.load_numpy!(
          npy.("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", <<0, 0, 0>>)
        )
      end

      assert_raise ArgumentError, ~r/unsupported format version 4/, fn ->
        Nx.load_numpy!(<<0x93, "NUMPY", 4, 0, 0::32>>)
      end
    end
  end

  describe "load_numpy_archive!/1" do
    test "stored and deflated archives written by NumPy" do
      for file <- ["stored.npz", "deflated.npz"] do
        assert [{"ints", ints}, {"floats", floats}, {"flags", flags}] =
                 Nx.load_numpy_archive!(fixture(file))

        assert {Nx.type(ints), Nx.to_list(ints)} == {{:s, 64}, expected("int64")}
        assert {Nx.type(floats), Nx.to_list(floats)} == {{:f, 64}, expected("float64")}
        assert {Nx.type(flags), Nx.to_list(flags)} == {{:u, 8}, expected("bool")}
      end
    end

    test "corrupted archives raise" do
      npz = fixture("deflated.npz")
      # flip one byte of the first member's compressed data: the CRC or inflate catches it
      <<head::binary-size(100), byte, rest::binary>> = npz

      assert_raise ArgumentError, ~r/unable to parse NumPy archive/, fn ->
        Nx.load_numpy_archive!(<<head::binary, Bitwise.bxor(byte, 0xFF), rest::binary>>)
      end

      assert_raise ArgumentError, ~r/unable to parse NumPy archive/, fn ->
        Nx.load_numpy_archive!(binary_part(npz, 0, byte_size(npz) - 30))
      end
    end
  end

  describe "NumPy writers" do
    test "dump/1 and dump_archive/1 round trip every NumPy type" do
      for type <- types_for_numpy() do
        t = Nx.iota({2, 3}, type: type)
        r = Nx.load_numpy!(Nx.NumPy.dump(t))
        assert {r.type, r.shape, Nx.to_binary(r)} == {t.type, t.shape, Nx.to_binary(t)}
        s = Nx.load_numpy!(Nx.NumPy.dump(Nx.as_type(Nx.tensor(3), type)))
        assert {s.shape, Nx.to_number(s)} == {{}, Nx.to_number(Nx.as_type(Nx.tensor(3), type))}
      end

      pairs = for type <- types_for_numpy(), do: {"t_#{type}", Nx.iota({3}, type: type)}
      loaded = Nx.load_numpy_archive!(Nx.NumPy.dump_archive(pairs))
      assert Enum.map(loaded, &elem(&1, 0)) == Enum.map(pairs, &elem(&1, 0))

      for {{_, a}, {_, b}} <- Enum.zip(pairs, loaded),
          do: assert(Nx.to_binary(a) == Nx.to_binary(b))
    end

    test "types NumPy lacks are refused" do
      for type <- [:s4, :u2, :bf16, :f8, :f8_e4m3fn] do
        assert_raise ArgumentError, ~r/NumPy has no dtype/, fn ->
          Nx.NumPy.dump(Nx.iota({2}, type: type))
        end
      end
    end
  end

  describe "safetensors" do
    test "reads files written by the safetensors package, with metadata" do
      data = fixture("numpy.safetensors")
      tensors = Nx.Safetensors.load!(data)

      for {dtype, type} <- @numpy, not String.starts_with?(dtype, "complex") do
        t = Map.fetch!(tensors, dtype)
        assert Nx.type(t) == type, dtype
        assert Nx.to_list(t) == expected(dtype), dtype
      end

      assert Nx.Safetensors.metadata!(data) == %{"format" => "np", "note" => "é"}
    end

    test "reads BF16, F8_E5M2, F8_E4M3 and C64" do
      tensors = Nx.Safetensors.load!(fixture("raw.safetensors"))
      floats = [[-1.0, -0.5, 0.0], [0.5, 1.0, 1.5]]

      for {name, type} <- [{"bf16", {:bf, 16}}, {"f8", {:f, 8}}, {"f8_e4m3fn", {:f8_e4m3fn, 8}}] do
        assert {Nx.type(tensors[name]), Nx.to_list(tensors[name])} == {type, floats}, name
      end

      assert Nx.to_list(tensors["c64"]) == expected("complex64")
      assert Nx.Safetensors.metadata!(fixture("raw.safetensors")) == %{}
    end

    test "dump/2 and load!/1 round trip every supported type" do
      types =
        [:u8, :s8, :u16, :s16, :u32, :s32, :u64, :s64, :f8, :f8_e4m3fn] ++
          [:f16, :bf16, :f32, :f64, :c64]

      tensors = Map.new(types, &{"t_#{&1}", Nx.iota({2, 2}, type: &1)})
      tensors = Map.put(tensors, "scalar", Nx.tensor(1.5))
      tensors = Map.put(tensors, "empty", Nx.reshape(Nx.from_binary(<<>>, :f32), {0, 2}))
      data = Nx.Safetensors.dump(tensors, metadata: %{"a" => "b\"\n"})
      loaded = Nx.Safetensors.load!(data)
      assert Map.keys(loaded) == Map.keys(tensors)

      for {name, t} <- tensors do
        assert {loaded[name].type, loaded[name].shape, Nx.to_binary(loaded[name])} ==
                 {t.type, t.shape, Nx.to_binary(t)}
      end

      assert Nx.Safetensors.metadata!(data) == %{"a" => "b\"\n"}
      <<n::64-little, _::binary>> = IO.iodata_to_binary(data)
      assert rem(n, 8) == 0
    end

    test "write!/3 and read!/2 go through files" do
      path =
        Path.join(
          System.tmp_dir!(),
          "nx_formats_#{System.unique_integer([:positive])}.safetensors"
        )

      :ok = Nx.Safetensors.write!(path, [w: Nx.tensor([1, 2]), b: 3.0], metadata: %{"k" => "v"})
      assert %{"w" => w, "b" => b} = Nx.Safetensors.read!(path)
      assert {Nx.to_list(w), Nx.to_number(b)} == {[1, 2], 3.0}
      assert Nx.Safetensors.read_metadata!(path) == %{"k" => "v"}
      File.rm!(path)
    end

    test "refuses what safetensors cannot hold" do
      assert_raise ArgumentError, ~r/no dtype for c128/, fn ->
        Nx.Safetensors.dump(%{"c" => Nx.tensor([1], type: :c128)})
      end

      assert_raise ArgumentError, ~r/no dtype for u4/, fn ->
        Nx.Safetensors.dump(%{"c" => Nx.tensor([1], type: :u4)})
      end

      assert_raise ArgumentError, ~r/metadata/, fn ->
        Nx.Safetensors.dump(%{"c" => Nx.tensor(1)}, metadata: %{"k" => 1})
      end

      assert_raise ArgumentError, ~r/unique/, fn ->
        Nx.Safetensors.dump([{"a", 1}, {:a, 2}])
      end
    end

    test "invalid headers and layouts raise" do
      file = fn header, data ->
        header = Nx.Safetensors.JSON.encode(header)
        <<byte_size(header)::64-little>> <> header <> data
      end

      info = fn dtype, shape, offsets ->
        %{"dtype" => dtype, "shape" => shape, "data_offsets" => offsets}
      end

      bad = [
        {%{"a" => info.("F32", [2], [0, 4])}, <<0::64>>},
        {%{"a" => info.("F32", [1], [0, 4])}, <<0::64>>},
        {%{"a" => info.("F32", [1], [0, 4]), "b" => info.("F32", [1], [0, 4])}, <<0::64>>},
        {%{"a" => info.("F32", [1], [4, 8])}, <<0::64>>},
        {%{"a" => info.("F33", [1], [0, 4])}, <<0::32>>},
        {%{"a" => info.("F32", [-1], [0, 4])}, <<0::32>>},
        {%{"a" => info.("F32", [1], [4, 0])}, <<0::32>>},
        {%{"a" => Map.put(info.("F32", [1], [0, 4]), "x", 1)}, <<0::32>>},
        {%{"a" => [1]}, <<0::32>>},
        {%{"__metadata__" => %{"k" => 1}}, <<>>},
        {%{"__metadata__" => [1]}, <<>>},
        {[1], <<>>}
      ]

      for {header, data} <- bad do
        assert_raise ArgumentError, ~r/unable to parse safetensors data/, fn ->
          Nx.Safetensors.load!(file.(header, data))
        end
      end

      for raw <- [<<5::64-little, "{\"a\":">>, <<100::64-little, "{}">>, <<2::64-little, "[]">>] do
        assert_raise ArgumentError, ~r/unable to parse safetensors data/, fn ->
          Nx.Safetensors.load!(raw)
        end
      end

      assert_raise ArgumentError, ~r/exceeds/, fn ->
        Nx.Safetensors.load!(<<200_000_000::64-little, "{}">>)
      end
    end

    test "JSON edge cases" do
      alias Nx.Safetensors.JSON
      assert JSON.decode(~s("\\ud83d\\ude00")) == {:ok, "😀"}
      assert JSON.decode("-0.5e2") == {:ok, -50.0}
      assert JSON.decode(" [ ] ") == {:ok, []}
      assert JSON.decode("{}") == {:ok, {:object, []}}

      for bad <- [
            "",
            "01",
            "1.",
            "-",
            "tru",
            "\"\\x\"",
            "\"\\ud800\"",
            "[1,]",
            "{\"a\"}",
            "1 2",
            "\"a\nb\"",
            "1e99999",
            String.duplicate("[", 100),
            <<?", 0xFF, ?">>
          ] do
        assert {:error, _} = JSON.decode(bad), inspect(bad)
      end

      assert JSON.encode(["é", <<1>>, 1.5, -2, nil, %{"b" => 1, "a" => 2}]) ==
               ~s(["é","\\u0001",1.5,-2,null,{"a":2,"b":1}])
    end
  end
end
