defmodule Nx.Defn.Grad.FFT do
  # Gradient rules of the discrete Fourier transforms.
  #
  # fft is the linear map y = F x with F[k, j] = exp(-2πi jk / n) (after
  # the axis is padded with zeros or truncated to n points); ifft is
  # conj(F) x / n. With complex gradients written dL/dRe + i dL/dIm, a
  # linear map's gradient is its adjoint applied to g: conj(F) g = n ifft(g)
  # for fft and F g / n = fft(g) / n for ifft. The result is then cut back
  # (or padded with zeros) to the input's size along the axis.
  #
  # fft2, ifft2, rfft and irfft are blocks whose default implementations
  # are written with fft and ifft, so their gradients follow from these.
  #
  # Same contract as `Nx.Defn.Grad.Elementwise.grad/4`.
  @moduledoc false

  @doc false
  def grad(op, args, ans, g)

  def grad(:fft, [x, opts], _ans, g) do
    n = opts[:length]
    back = g |> Nx.ifft(length: n, axis: opts[:axis], eps: opts[:eps]) |> Nx.multiply(n)
    [{x, fit_length(back, x, opts[:axis], n)}]
  end

  def grad(:ifft, [x, opts], _ans, g) do
    n = opts[:length]
    back = g |> Nx.fft(length: n, axis: opts[:axis], eps: opts[:eps]) |> Nx.divide(n)
    [{x, fit_length(back, x, opts[:axis], n)}]
  end

  def grad(_op, _args, _ans, _g), do: nil

  # The transform padded or truncated the axis to n points: the truncated
  # elements get no gradient, the padding's gradient is dropped.
  defp fit_length(back, x, axis, n) do
    size = elem(x.shape, axis)

    cond do
      size > n ->
        config = List.duplicate({0, 0, 0}, Nx.rank(x)) |> List.replace_at(axis, {0, size - n, 0})
        Nx.pad(back, 0, config)

      size < n ->
        Nx.slice_along_axis(back, 0, size, axis: axis)

      true ->
        back
    end
  end
end
