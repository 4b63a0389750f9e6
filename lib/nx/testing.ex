defmodule Nx.Testing do
  @moduledoc """
  Assertions on tensors for ExUnit tests.

      import Nx.Testing

      assert_equal(Nx.add(1, 2), Nx.tensor(3))
      assert_all_close(Nx.divide(1.0, 3.0), 0.3333333)

  Numbers are accepted where tensors are. On failure the message shows both
  tensors and the first position where they differ.
  """

  import ExUnit.Assertions

  @doc """
  Asserts that two tensors have the same shape and the same elements. NaN
  equals NaN here, so tensors holding NaN compare equal to themselves.

  ## Examples

      iex> Nx.Testing.assert_equal(Nx.tensor([1.0, :nan]), Nx.tensor([1.0, :nan]))
      true

      iex> try do
      ...>   Nx.Testing.assert_equal(Nx.tensor([1, 2]), Nx.tensor([1, 3]))
      ...> rescue
      ...>   error in ExUnit.AssertionError -> error.message
      ...> end
      "tensors differ at index [1]: 2 != 3"
  """
  @spec assert_equal(Nx.t(), Nx.t()) :: true
  def assert_equal(left, right) do
    compare!(left, right, fn a, b -> a == b or (a == :nan and b == :nan) end, "!=")
  end

  @doc """
  Asserts that two tensors have the same shape and that every pair of
  elements satisfies `|left - right| <= atol + rtol * |right|`, or both are
  NaN, or both are the same infinity.

  ## Options

    * `:atol` - absolute tolerance (default `1.0e-4`)
    * `:rtol` - relative tolerance (default `1.0e-4`)

  ## Examples

      iex> Nx.Testing.assert_all_close(Nx.tensor([1.0, 2.0]), Nx.tensor([1.00001, 2.0]))
      true

      iex> try do
      ...>   Nx.Testing.assert_all_close(Nx.tensor([1.0, 2.0]), Nx.tensor([1.0, 2.1]))
      ...> rescue
      ...>   error in ExUnit.AssertionError -> error.message
      ...> end
      "tensors differ at index [1]: 2.0 is not close to 2.1 (atol: 0.0001, rtol: 0.0001)"
  """
  @spec assert_all_close(Nx.t(), Nx.t(), keyword) :: true
  def assert_all_close(left, right, opts \\ []) do
    opts = Keyword.validate!(opts, atol: 1.0e-4, rtol: 1.0e-4)
    {atol, rtol} = {opts[:atol], opts[:rtol]}

    compare!(
      left,
      right,
      &close?(&1, &2, atol, rtol),
      "is not close to",
      " (atol: #{atol}, rtol: #{rtol})"
    )
  end

  defp close?(a, b, _atol, _rtol) when is_atom(a) or is_atom(b), do: a == b

  defp close?(%Complex{} = a, b, atol, rtol),
    do:
      close?(Complex.real(a), real(b), atol, rtol) and
        close?(Complex.imag(a), imag(b), atol, rtol)

  defp close?(a, %Complex{} = b, atol, rtol), do: close?(Complex.new(a), b, atol, rtol)
  defp close?(a, b, atol, rtol), do: abs(a - b) <= atol + rtol * abs(b)

  defp real(%Complex{} = c), do: Complex.real(c)
  defp real(n), do: n
  defp imag(%Complex{} = c), do: Complex.imag(c)
  defp imag(_), do: 0.0

  defp compare!(left, right, same?, verb, suffix \\ "") do
    left = Nx.to_tensor(left)
    right = Nx.to_tensor(right)

    if Nx.shape(left) != Nx.shape(right) do
      flunk("""
      tensors have different shapes: #{inspect(Nx.shape(left))} and #{inspect(Nx.shape(right))}
      left:  #{inspect(left)}
      right: #{inspect(right)}\
      """)
    end

    pairs = Enum.zip(Nx.to_flat_list(left), Nx.to_flat_list(right))

    case Enum.find_index(pairs, fn {a, b} -> not same?.(a, b) end) do
      nil ->
        true

      index ->
        {a, b} = Enum.at(pairs, index)
        position = unravel(index, Nx.shape(left))

        flunk(
          "tensors differ at index #{inspect(position)}: #{format(a, left.type)} #{verb} " <>
            "#{format(b, right.type)}#{suffix}"
        )
    end
  end

  defp format(value, {kind, _}) when kind in [:s, :u], do: Integer.to_string(value)
  defp format(value, type), do: Nx.FloatFormat.to_string(value, type)

  defp unravel(index, shape) do
    shape
    |> Tuple.to_list()
    |> Enum.reverse()
    |> Enum.map_reduce(index, fn dim, rest -> {rem(rest, dim), div(rest, dim)} end)
    |> elem(0)
    |> Enum.reverse()
  end
end
