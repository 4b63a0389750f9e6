defmodule Nx.Defn.Grad.Linalg do
  # Gradient rules of linear algebra and Fourier transforms.
  #
  # Same contract as `Nx.Defn.Grad.Elementwise.grad/4`.
  @moduledoc false

  @doc false
  def grad(_op, _args, _ans, _g), do: nil
end
