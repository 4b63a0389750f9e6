defmodule Nx.TemplateBackend do
  @moduledoc """
  A backend for tensors without data: templates that describe the type,
  shape and names of tensors to come (see `Nx.template/3`).

  Every operation on a template raises, except the ones that only look at
  its type and shape.
  """

  @behaviour Nx.Backend
  defstruct []

  @impl true
  def init(opts), do: opts

  @impl true
  def inspect(_tensor, _opts), do: "Nx.TemplateBackend"

  for {name, arity} <- Nx.Backend.behaviour_info(:callbacks), name not in [:init, :inspect] do
    args = Macro.generate_arguments(arity, __MODULE__)

    @impl true
    def unquote(name)(unquote_splicing(args)) do
      _ = {unquote_splicing(args)}

      raise RuntimeError,
            "cannot perform operations on a Nx.TemplateBackend tensor (#{unquote(name)})"
    end
  end
end
