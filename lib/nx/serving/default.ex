defmodule Nx.Serving.Default do
  @moduledoc false
  # The module behind function servings (`Nx.Serving.new/2`, `Nx.Serving.jit/2`):
  # one compiled function per partition, or per partition and batch key when
  # the serving function takes the key.

  @behaviour Nx.Serving

  @impl true
  def init(_type, fun, partitions) do
    compiled =
      partitions
      |> Enum.with_index()
      |> Map.new(fn {defn_options, partition} ->
        {batch_keys, defn_options} = Keyword.pop(defn_options, :batch_keys, [:default])

        compiled =
          if is_function(fun, 2) do
            Map.new(batch_keys, &{&1, batch_function!(fun.(&1, defn_options))})
          else
            {:single, batch_function!(fun.(defn_options))}
          end

        {partition, compiled}
      end)

    {:ok, compiled}
  end

  defp batch_function!(fun) when is_function(fun, 1), do: fun

  defp batch_function!(other) do
    raise ArgumentError,
          "the function given to Nx.Serving.new/2 must return a function of one argument " <>
            "(for example from Nx.Defn.jit/2 or Nx.Defn.compile/3), got: #{inspect(other)}"
  end

  @impl true
  def handle_batch(batch, partition, compiled) do
    fun =
      case Map.fetch!(compiled, partition) do
        {:single, fun} ->
          fun

        by_key ->
          case Map.fetch(by_key, batch.key) do
            {:ok, fun} -> fun
            :error -> raise ArgumentError, "unknown batch key: #{inspect(batch.key)}"
          end
      end

    {:execute, fn -> {fun.(batch), :server_info} end, compiled}
  end
end
