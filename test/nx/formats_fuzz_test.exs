defmodule Nx.FormatsFuzzTest do
  # Mutated inputs to every reader: each call either returns or raises ArgumentError, and no
  # atom is created. Not async, so that no other test loads code (which creates atoms) while
  # the atom table is watched.
  use ExUnit.Case, async: false

  @dir Path.expand("../fixtures/formats", __DIR__)
  # NX_FUZZ_ROUNDS=20000 mix test test/nx/formats_fuzz_test.exs for a longer run
  @rounds String.to_integer(System.get_env("NX_FUZZ_ROUNDS", "1500"))

  defp fixture(name), do: File.read!(Path.join(@dir, name))

  defp seeds(:deserialize) do
    legacy =
      :erlang.term_to_binary(
        {1, :little, {:container, {{:tensor, {2}, {:u, 8}, [:x], <<1, 2>>}}}}
      )

    [
      Nx.serialize(Nx.iota({2, 3}, names: [:x, :y])),
      Nx.serialize({Nx.tensor([1.5, 2.5], type: :f64), %{a: Nx.tensor(1, type: :u4)}}),
      Nx.serialize(%{w: Nx.iota({4}, type: :c64)}, compressed: 6),
      legacy
    ]
    |> Enum.map(&IO.iodata_to_binary/1)
  end

  defp seeds(:numpy),
    do: Enum.map(["int16_be.npy", "complex64.npy", "fortran.npy", "v3.npy"], &fixture/1)

  defp seeds(:numpy_archive), do: Enum.map(["stored.npz", "deflated.npz"], &fixture/1)

  defp seeds(:safetensors),
    do: Enum.map(["numpy.safetensors", "raw.safetensors"], &fixture/1)

  defp read(:deserialize, data), do: Nx.deserialize(data)
  defp read(:numpy, data), do: Nx.load_numpy!(data)
  defp read(:numpy_archive, data), do: Nx.load_numpy_archive!(data)
  defp read(:safetensors, data), do: Nx.Safetensors.load!(data)

  defp mutate(data) do
    size = byte_size(data)

    case :rand.uniform(6) do
      1 ->
        # flip 1 to 4 random bytes
        Enum.reduce(1..:rand.uniform(4), data, fn _, acc -> flip(acc, :rand.uniform(size) - 1) end)

      2 ->
        # flip a byte among the first 64 (headers, lengths, dict text)
        flip(data, :rand.uniform(min(size, 64)) - 1)

      3 ->
        # truncate
        binary_part(data, 0, :rand.uniform(size) - 1)

      4 ->
        # insert random bytes
        at = :rand.uniform(size + 1) - 1
        <<head::binary-size(at), tail::binary>> = data
        head <> :crypto.strong_rand_bytes(:rand.uniform(8)) <> tail

      5 ->
        # overwrite a run with random bytes
        at = :rand.uniform(size) - 1
        len = min(:rand.uniform(16), size - at)
        <<head::binary-size(at), _::binary-size(len), tail::binary>> = data
        head <> :crypto.strong_rand_bytes(len) <> tail

      6 ->
        # set a byte to an extreme value (lengths and counts)
        at = :rand.uniform(size) - 1
        <<head::binary-size(at), _, tail::binary>> = data
        head <> <<Enum.random([0, 0x7F, 0x80, 0xFF])>> <> tail
    end
  end

  defp flip(data, at) do
    <<head::binary-size(at), byte, tail::binary>> = data
    <<head::binary, Bitwise.bxor(byte, :rand.uniform(255))>> <> tail
  end

  defp run(reader, data) do
    read(reader, data)
    :ok
  rescue
    ArgumentError -> :error
  end

  defp fuzz_one(reader, seeds, round) do
    data = mutate(Enum.at(seeds, rem(round, length(seeds))))

    try do
      run(reader, data)
    rescue
      error ->
        flunk(
          "#{reader} raised #{inspect(error.__struct__)} on mutated input " <>
            "#{inspect(data, limit: 200)}: #{Exception.message(error)}"
        )
    end
  end

  for reader <- [:deserialize, :numpy, :numpy_archive, :safetensors] do
    test "#{reader}: #{3 * @rounds} mutated inputs give values or ArgumentError, and no atoms" do
      reader = unquote(reader)
      seeds = seeds(reader)
      seed = :erlang.phash2({reader, ExUnit.configuration()[:seed]})
      :rand.seed(:exsss, {seed, 1, 2})

      # Warm up with other mutations: the first use of a code path loads modules (Float,
      # Inspect implementations, ...), which creates atoms once. Inputs that created atoms
      # would keep creating new ones below, where the mutations differ.
      for data <- seeds, do: assert(run(reader, data) == :ok)
      for data <- seeds, _ <- 1..@rounds, do: run(reader, mutate(data))
      # Three passes of fresh mutations: modules loaded on a rare path may add atoms once,
      # but a reader that turned input into atoms would add some in every pass.
      {growth, outcomes} =
        Enum.map_reduce(1..3, [], fn _pass, outcomes ->
          atoms = :erlang.system_info(:atom_count)
          pass = for round <- 1..@rounds, do: fuzz_one(reader, seeds, round)
          {:erlang.system_info(:atom_count) - atoms, pass ++ outcomes}
        end)

      assert 0 in growth, "atoms created in every pass: #{inspect(growth)}"
      # the mutations must mostly be caught, not all accepted by chance
      assert Enum.count(outcomes, &(&1 == :error)) > div(3 * @rounds, 4)
    end
  end
end
