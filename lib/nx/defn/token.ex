defmodule Nx.Defn.Token do
  @moduledoc """
  An ordered list of hooks, created inside `defn` by
  `Nx.Defn.Kernel.create_token/0` and attached to a result with
  `Nx.Defn.Kernel.attach_token/2`.

  Each hook has a `:name` (an atom, which `Nx.Defn.jit/2`'s `:hooks`
  option may override), an `:expr` (the tensor or container whose runtime
  value the hook receives) and a `:callback` (a one-argument function, or
  `nil` when only a named hook given at jit time should run). Compilers run
  the hooks of a token in the order they were added.
  """

  @type hook :: %{name: atom, expr: term, callback: (term -> term) | nil}
  @type t :: %__MODULE__{hooks: [hook]}

  defstruct hooks: []

  @doc """
  Creates an empty token.

  ## Examples

      iex> Nx.Defn.Token.new()
      %Nx.Defn.Token{hooks: []}
  """
  @spec new() :: t
  def new, do: %__MODULE__{}

  @doc """
  Adds a hook at the end of the token.

  ## Examples

      iex> token = Nx.Defn.Token.add_hook(Nx.Defn.Token.new(), 1, :my_hook, nil)
      iex> Enum.map(token.hooks, & &1.name)
      [:my_hook]
  """
  @spec add_hook(t, term, atom, (term -> term) | nil) :: t
  def add_hook(%__MODULE__{hooks: hooks} = token, expr, name, callback)
      when is_atom(name) and (is_nil(callback) or is_function(callback, 1)) do
    %{token | hooks: hooks ++ [%{name: name, expr: expr, callback: callback}]}
  end
end
