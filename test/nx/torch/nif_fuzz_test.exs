defmodule Nx.Torch.NIFFuzzTest do
  # Calls every NIF, and the public API, with thousands of random (mostly invalid) arguments:
  # only Elixir exceptions may come back, and the VM, other processes and other tensors live on.
  use ExUnit.Case, async: true

  import Bitwise
  alias Nx.Torch.NIF

  @calls 4000

  defp nifs do
    for {name, arity} <- NIF.__info__(:functions),
        name |> Atom.to_string() |> String.starts_with?(["t_", "p_"]),
        # dbg_* panic on purpose and have their own test; rt_* take no input
        do: {name, arity}
  end

  defp live_ref(seed) do
    case rem(seed, 6) do
      0 -> Nx.iota({3}) |> Nx.Torch.Backend.ref()
      1 -> Nx.iota({2, 3}, type: :f32) |> Nx.Torch.Backend.ref()
      2 -> Nx.tensor([1, 2], type: :u64) |> Nx.Torch.Backend.ref()
      3 -> Nx.tensor([Complex.new(1, 2)]) |> Nx.Torch.Backend.ref()
      4 -> Nx.iota({3}, type: :s4) |> Nx.Torch.Backend.ref()
      5 -> Nx.tensor(1.5, type: :bf16) |> Nx.Torch.Backend.ref()
    end
  end

  defp dead_ref do
    t = Nx.iota({4})
    Nx.backend_deallocate(t)
    Nx.Torch.Backend.ref(t)
  end

  defp random_arg do
    case :rand.uniform(16) do
      1 -> live_ref(:rand.uniform(100))
      2 -> dead_ref()
      3 -> Enum.random([-1, 0, 1, 2, 3, 7, 16, 19, 20, 255, 1 <<< 31, -(1 <<< 40), 1 <<< 62])
      4 -> Enum.random([{}, {3}, {2, 3}, {0}, {-1}, {1 <<< 40, 1 <<< 40}, {2, 2, 2, 2, 2}])
      5 -> Enum.random([[], [0], [1, 0], [5], [-1], [0, 0], [0, 1, 2, 3]])
      6 -> Enum.random([true, false, nil, :add, :sum, :nope, :reduce_max])
      7 -> :crypto.strong_rand_bytes(:rand.uniform(32) - 1)
      8 -> Enum.random([1.5, -0.0, 1.0e308])
      9 -> [live_ref(:rand.uniform(100)), live_ref(:rand.uniform(100))]
      10 -> {live_ref(1), live_ref(2)}
      11 -> "string"
      12 -> Enum.random([[{0, 1}], [{1, 1, 0}], [{-5, 5, 2}]])
      13 -> self()
      14 -> make_ref()
      15 -> %{a: 1}
      16 -> Enum.random([0, 1, 2, 3, 4, 5])
    end
  end

  test "random arguments to every NIF raise Elixir exceptions, never crash" do
    :rand.seed(:exsss, {2026, 11, 25})
    keeper = Nx.iota({5}, type: :f64)
    nifs = nifs()
    assert length(nifs) > 40

    outcomes =
      for _ <- 1..@calls, reduce: %{ok: 0, raised: 0} do
        acc ->
          {name, arity} = Enum.random(nifs)
          args = for _ <- 1..arity//1, do: random_arg()

          try do
            apply(NIF, name, args)
            Map.update!(acc, :ok, &(&1 + 1))
          rescue
            # every error, including ErlangError for terms the NIF cannot decode
            _ -> Map.update!(acc, :raised, &(&1 + 1))
          end
      end

    assert outcomes.ok + outcomes.raised == @calls
    assert outcomes.raised > @calls / 2
    # the VM and unrelated tensors are fine
    assert Nx.to_list(keeper) == [0.0, 1.0, 2.0, 3.0, 4.0]
  end

  test "random arguments to the public API raise Elixir exceptions" do
    :rand.seed(:exsss, {11, 25, 2026})

    funs = [
      {:add, 2},
      {:dot, 2},
      {:reshape, 2},
      {:transpose, 2},
      {:slice, 3},
      {:sum, 2},
      {:argmax, 2},
      {:as_type, 2},
      {:concatenate, 2},
      {:take, 3},
      {:gather, 3},
      {:put_slice, 3},
      {:pad, 3},
      {:sort, 2},
      {:broadcast, 3},
      {:squeeze, 2},
      {:from_binary, 2},
      {:iota, 2},
      {:conv, 3},
      {:window_sum, 3},
      {:indexed_add, 3}
    ]

    values = fn ->
      Enum.random([
        Nx.iota({2, 3}),
        Nx.iota({3}, type: :f32),
        Nx.tensor([1, 2], type: :u64),
        5,
        -1,
        {2, 3},
        {7},
        [],
        [0, 1],
        [axes: [5]],
        [axis: -9],
        [type: :f99],
        :s32,
        <<1, 2, 3>>,
        [{0, 0, 0}],
        nil
      ])
    end

    for _ <- 1..1500 do
      {name, arity} = Enum.random(funs)
      args = for _ <- 1..arity, do: values.()

      try do
        apply(Nx, name, args)
      rescue
        _ -> :ok
      end
    end

    assert Nx.to_list(Nx.add(Nx.tensor([1]), 1)) == [2]
  end
end
