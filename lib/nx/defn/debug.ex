defmodule Nx.Defn.Debug do
  # The compiler behind Nx.Defn.debug_expr/2: returns the traced expression
  # instead of running it.
  @moduledoc false
  @behaviour Nx.Defn.Compiler

  @impl true
  def __jit__(key, vars, fun, args_list, opts) do
    __compile__(key, vars, fun, opts).(args_list)
  end

  @impl true
  def __compile__(_key, vars, fun, _opts) do
    expr = fun.(vars)
    fn args_list -> Enum.map(args_list, fn _ -> expr end) end
  end

  @impl true
  def __partitions_options__(opts), do: [opts]

  @impl true
  def __to_backend__(_opts), do: {Nx.Defn.Expr, []}
end
