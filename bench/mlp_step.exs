# Medians of the compiled W7 training step and W8 forward pass alone (no PyTorch side), for
# quick before/after comparisons while working on the compiler:
#
#   mix run bench/mlp_step.exs                       # 200 steps, 3000 forward calls
#   NX_TORCH_PROFILE=1 mix run bench/mlp_step.exs    # plus every instruction's time (stderr)
#
# The network and its loss are those of bench/nx_side.exs (784 -> 512 -> 512 -> 10, batch 128).
defmodule MlpStep do
  import Nx.Defn

  @batch 128

  defn forward({w1, b1, w2, b2, w3, b3}, x) do
    h = x |> Nx.dot(w1) |> Nx.add(b1) |> Nx.max(0)
    h = h |> Nx.dot(w2) |> Nx.add(b2) |> Nx.max(0)
    h |> Nx.dot(w3) |> Nx.add(b3)
  end

  defn loss(params, x, y) do
    logits = forward(params, x)
    shifted = logits - Nx.reduce_max(logits, axes: [1], keep_axes: true)
    lse = shifted |> Nx.exp() |> Nx.sum(axes: [1], keep_axes: true) |> Nx.log()
    -Nx.sum(y * (shifted - lse)) / @batch
  end

  defn train_step({w1, b1, w2, b2, w3, b3} = params, x, y) do
    {loss, {g1, gb1, g2, gb2, g3, gb3}} = value_and_grad(params, &loss(&1, x, y))

    {{w1 - g1 * 0.01, b1 - gb1 * 0.01, w2 - g2 * 0.01, b2 - gb2 * 0.01, w3 - g3 * 0.01,
      b3 - gb3 * 0.01}, loss}
  end

  def median_us(fun, reps) do
    for(_ <- 1..reps, do: timed(fun)) |> Enum.sort() |> Enum.at(div(reps, 2))
  end

  defp timed(fun) do
    t0 = System.monotonic_time()
    fun.()
    System.convert_time_unit(System.monotonic_time() - t0, :native, :nanosecond) / 1000
  end
end

Nx.default_backend(Nx.Torch.Backend)
key = Nx.Random.key(1)
rand = fn shape -> shape |> then(&Nx.Random.uniform(key, -0.05, 0.05, shape: &1)) |> elem(0) end
zeros = &Nx.broadcast(0.0, {&1})

params =
  {rand.({784, 512}), zeros.(512), rand.({512, 512}), zeros.(512), rand.({512, 10}), zeros.(10)}

x = rand.({128, 784})
y = Nx.eye(10, type: :f32) |> Nx.tile([13, 1]) |> Nx.slice([0, 0], [128, 10])

step = Nx.Defn.jit(&MlpStep.train_step/3, compiler: Nx.Torch)
{params1, _} = step.(params, x, y)
step_us = MlpStep.median_us(fn -> step.(params1, x, y) end, 200)
IO.puts("W7 train step: median #{Float.round(step_us / 1000, 3)} ms")

forward = Nx.Defn.jit(&MlpStep.forward/2, compiler: Nx.Torch)
x1 = rand.({1, 784})
for _ <- 1..200, do: forward.(params, x1)

IO.puts(
  "W8 forward b=1: median #{Float.round(MlpStep.median_us(fn -> forward.(params, x1) end, 3000), 1)} µs"
)
