defmodule Nx.Defn.Grad.Elementwise do
  # Gradient rules of element-wise operations: unary math, binary
  # arithmetic (with broadcasting), select, clip and type conversions.
  #
  # Each rule receives the operation's arguments (expression tensors, names
  # dropped), its result `ans` and the incoming gradient `g` (shaped like
  # `ans`), and returns `{argument, gradient}` pairs, each gradient shaped
  # like its argument, or nil when the operation is not one of this module.
  @moduledoc false

  @two_over_sqrt_pi 2 / :math.sqrt(:math.pi())
  @sqrt_pi_over_two :math.sqrt(:math.pi()) / 2

  @doc false
  def grad(op, args, ans, g)

  ## Unary

  def grad(:negate, [x], _ans, g), do: [{x, Nx.negate(g)}]

  # At zero, abs takes the gradient of the identity.
  def grad(:abs, [%{type: {:c, _}} = z], ans, g) do
    safe = Nx.select(Nx.equal(ans, 0), 1, ans)
    [{z, g |> Nx.multiply(z) |> Nx.divide(safe)}]
  end

  def grad(:abs, [x], _ans, g), do: [{x, Nx.select(Nx.greater_equal(x, 0), g, Nx.negate(g))}]
  def grad(:exp, [x], ans, g), do: [{x, Nx.multiply(g, conj(ans))}]
  def grad(:expm1, [x], ans, g), do: [{x, Nx.multiply(g, conj(Nx.add(ans, 1)))}]
  def grad(:log, [x], _ans, g), do: [{x, Nx.divide(g, conj(x))}]
  def grad(:log1p, [x], _ans, g), do: [{x, Nx.divide(g, conj(Nx.add(x, 1)))}]

  def grad(:sigmoid, [x], ans, g),
    do: [{x, g |> Nx.multiply(ans) |> Nx.multiply(Nx.subtract(1, ans))}]

  def grad(:sin, [x], _ans, g), do: [{x, Nx.multiply(g, Nx.cos(x))}]
  def grad(:cos, [x], _ans, g), do: [{x, Nx.multiply(g, Nx.negate(Nx.sin(x)))}]

  # tan' = 1 + tan^2
  def grad(:tan, [x], ans, g), do: [{x, Nx.multiply(g, Nx.add(1, Nx.multiply(ans, ans)))}]
  def grad(:asin, [x], _ans, g), do: [{x, Nx.multiply(g, Nx.rsqrt(one_minus_square(x)))}]

  def grad(:acos, [x], _ans, g),
    do: [{x, Nx.negate(Nx.multiply(g, Nx.rsqrt(one_minus_square(x))))}]

  def grad(:atan, [x], _ans, g), do: [{x, Nx.divide(g, Nx.add(1, Nx.multiply(x, x)))}]
  def grad(:sinh, [x], _ans, g), do: [{x, Nx.multiply(g, Nx.cosh(x))}]
  def grad(:cosh, [x], _ans, g), do: [{x, Nx.multiply(g, Nx.sinh(x))}]
  def grad(:tanh, [x], ans, g), do: [{x, Nx.multiply(g, one_minus_square(ans))}]

  def grad(:asinh, [x], _ans, g),
    do: [{x, Nx.multiply(g, Nx.rsqrt(Nx.add(Nx.multiply(x, x), 1)))}]

  def grad(:acosh, [x], _ans, g),
    do: [{x, Nx.multiply(g, Nx.rsqrt(Nx.subtract(Nx.multiply(x, x), 1)))}]

  def grad(:atanh, [x], _ans, g), do: [{x, Nx.divide(g, one_minus_square(x))}]
  def grad(:sqrt, [x], ans, g), do: [{x, Nx.divide(Nx.multiply(g, 0.5), ans)}]

  # d/dx x^(-1/2) = -1/2 x^(-3/2) = -1/2 ans^3
  def grad(:rsqrt, [x], ans, g),
    do: [{x, g |> Nx.multiply(-0.5) |> Nx.multiply(Nx.multiply(ans, Nx.multiply(ans, ans)))}]

  # d/dx x^(1/3) = 1 / (3 ans^2)
  def grad(:cbrt, [x], ans, g),
    do: [{x, Nx.divide(g, Nx.multiply(3, Nx.multiply(ans, ans)))}]

  def grad(:erf, [x], _ans, g), do: [{x, Nx.multiply(g, gaussian(x, @two_over_sqrt_pi))}]
  def grad(:erfc, [x], _ans, g), do: [{x, Nx.multiply(g, gaussian(x, -@two_over_sqrt_pi))}]

  # erf_inv' = 1 / erf'(erf_inv(x)) = sqrt(pi)/2 * exp(ans^2)
  def grad(:erf_inv, [x], ans, g),
    do: [{x, g |> Nx.multiply(@sqrt_pi_over_two) |> Nx.multiply(Nx.exp(Nx.multiply(ans, ans)))}]

  # Complex gradients follow the convention dL/dRe + i dL/dIm (as
  # PyTorch): for holomorphic operations, g times the conjugate derivative.
  def grad(:conjugate, [%{type: {:c, _}} = z], _ans, g), do: [{z, Nx.conjugate(g)}]
  def grad(:conjugate, [x], _ans, g), do: [{x, Nx.real(g)}]
  def grad(:real, [x], _ans, g), do: [{x, g}]

  def grad(:imag, [%{type: {:c, _}} = z], _ans, g),
    do: [{z, Nx.multiply(g, Complex.new(0, 1))}]

  def grad(:imag, [x], _ans, _g), do: [{x, Nx.Defn.Grad.zeros(x)}]

  # phase(z) = atan2(im z, re z): d/d(re) = -im/|z|^2, d/d(im) = re/|z|^2.
  def grad(:phase, [%{type: {:c, _}} = z], _ans, g) do
    abs2 = Nx.multiply(z, Nx.conjugate(z)) |> Nx.real()
    safe = Nx.select(Nx.equal(abs2, 0), 1, abs2)
    [{z, g |> Nx.multiply(Nx.multiply(z, Complex.new(0, 1))) |> Nx.divide(safe)}]
  end

  def grad(:phase, [x], _ans, _g), do: [{x, Nx.Defn.Grad.zeros(x)}]

  # Converting complex to real keeps the real part.
  def grad(:as_type, [%{type: {:c, _}} = x], %{type: {kind, _}}, g) when kind != :c,
    do: [{x, Nx.real(g)}]

  def grad(:as_type, [x], _ans, g), do: [{x, g}]
  def grad(:bitcast, [x], _ans, g), do: [{x, g}]

  ## Binary, with broadcasting

  def grad(:add, [x, y], _ans, g), do: [unbroadcast(x, g), unbroadcast(y, g)]
  def grad(:subtract, [x, y], _ans, g), do: [unbroadcast(x, g), unbroadcast(y, Nx.negate(g))]

  def grad(:multiply, [x, y], _ans, g),
    do: [unbroadcast(x, Nx.multiply(g, conj(y))), unbroadcast(y, Nx.multiply(g, conj(x)))]

  def grad(:divide, [x, y], ans, g) do
    gx = Nx.divide(g, conj(y))
    [unbroadcast(x, gx), unbroadcast(y, Nx.negate(Nx.multiply(gx, conj(ans))))]
  end

  # d/dx x^y = y x^(y-1); d/dy x^y = x^y log(x). The exponent y - 1 is
  # replaced where y == 0 (the factor y is zero there, and 0^-1 would make
  # NaN), and log(x) where x == 0 (x^y is 0 or 1 there, the term vanishes).
  def grad(:pow, [x, y], ans, g) do
    exponent = Nx.select(Nx.equal(y, 0), 1, Nx.subtract(y, 1))
    gx = g |> Nx.multiply(y) |> Nx.multiply(Nx.pow(x, exponent))
    base = Nx.select(Nx.equal(x, 0), 1, x)
    gy = g |> Nx.multiply(ans) |> Nx.multiply(Nx.log(base))
    [unbroadcast(x, gx), unbroadcast(y, gy)]
  end

  # atan2(x, y) = atan(x / y): d/dx = y / (x^2 + y^2), d/dy = -x / (x^2 + y^2)
  def grad(:atan2, [x, y], _ans, g) do
    den = Nx.add(Nx.multiply(x, x), Nx.multiply(y, y))

    [
      unbroadcast(x, Nx.divide(Nx.multiply(g, y), den)),
      unbroadcast(y, Nx.divide(Nx.multiply(g, Nx.negate(x)), den))
    ]
  end

  # x = q y + ans with an integral q: d/dx = 1, d/dy = -q.
  def grad(:remainder, [x, y], ans, g) do
    q = Nx.round(Nx.divide(Nx.subtract(x, ans), y))
    [unbroadcast(x, g), unbroadcast(y, Nx.negate(Nx.multiply(g, q)))]
  end

  # Where both sides are equal, each gets half of the gradient.
  def grad(op, [x, y], ans, g) when op in [:max, :min] do
    # selects rather than arithmetic on the u8 masks: the compiler fuses them into one kernel
    x_wins = Nx.equal(x, ans)
    y_wins = Nx.equal(y, ans)
    half = Nx.multiply(g, 0.5)
    gx = Nx.select(x_wins, Nx.select(y_wins, half, g), 0)
    gy = Nx.select(y_wins, Nx.select(x_wins, half, g), 0)
    [unbroadcast(x, gx), unbroadcast(y, gy)]
  end

  def grad(:quotient, _args, _ans, _g) do
    raise ArgumentError,
          "cannot compute the gradient of Nx.quotient/2 (integer division is piecewise " <>
            "constant); for a floor division of floats use Nx.floor(Nx.divide(a, b)), " <>
            "whose gradient is zero"
  end

  ## Selection

  def grad(:select, [pred, on_true, on_false], _ans, g) do
    [
      unbroadcast(on_true, Nx.select(pred, g, 0)),
      unbroadcast(on_false, Nx.select(pred, 0, g))
    ]
  end

  # The operand gets the gradient strictly inside (min, max); the bounds
  # where they are strictly active.
  def grad(:clip, [x, min, max], _ans, g) do
    inside = Nx.logical_and(Nx.greater(x, min), Nx.less(x, max))
    below = Nx.logical_and(Nx.less(x, min), Nx.less(min, max))
    above = Nx.greater(x, max)

    [
      {x, Nx.select(inside, g, 0)},
      {min, Nx.sum(Nx.select(below, g, 0))},
      {max, Nx.sum(Nx.select(above, g, 0))}
    ]
  end

  def grad(_op, _args, _ans, _g), do: nil

  ## Helpers

  # For holomorphic operations the gradient is g times the conjugate of
  # the derivative; real values are their own conjugate.
  defp conj(%{type: {:c, _}} = t), do: Nx.conjugate(t)
  defp conj(t), do: t

  defp one_minus_square(x), do: Nx.subtract(1, Nx.multiply(x, x))

  defp gaussian(x, scale),
    do: x |> Nx.multiply(x) |> Nx.negate() |> Nx.exp() |> Nx.multiply(scale)

  @doc false
  # Sums `g` (shaped like the broadcast result) down to the shape of `x`.
  def unbroadcast(%{shape: shape} = x, %{shape: shape} = g), do: {x, g}

  def unbroadcast(%{shape: shape} = x, %{shape: out_shape} = g) do
    lead = tuple_size(out_shape) - tuple_size(shape)

    axes =
      Enum.to_list(0..(lead - 1)//1) ++
        for i <- 0..(tuple_size(shape) - 1)//1,
            elem(shape, i) == 1 and elem(out_shape, lead + i) != 1,
            do: lead + i

    g = if axes == [], do: g, else: Nx.sum(g, axes: axes)
    {x, Nx.reshape(g, shape)}
  end
end
