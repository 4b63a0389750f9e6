defmodule Nx.GoldenFixtures do
  # Helpers for tests that read golden values written by the NumPy generator scripts under
  # test/fixtures/ (tensors as {type, shape, flat values}, complex values as {re, im}).
  @moduledoc false

  def build({type, {}, [value]}), do: Nx.tensor(element(value), type: type)

  def build({type, shape, values}) do
    values |> Enum.map(&element/1) |> Nx.tensor(type: type) |> Nx.reshape(shape)
  end

  def element({re, im}), do: Complex.new(re, im)
  def element(value), do: value

  def close?(%Complex{} = a, %Complex{} = b, tol),
    do: close?(a.re, b.re, tol) and close?(a.im, b.im, tol)

  def close?(a, b, tol) when is_float(a) and is_float(b),
    do: a == b or abs(a - b) <= tol * max(1.0, abs(b))

  def close?(a, b, _tol), do: a == b
end
