defmodule Nx.Torch.CUDATest do
  # Runs only where LibTorch sees a CUDA device (test_helper.exs excludes :cuda otherwise):
  # set up with `NX_TORCH_CUDA=1 make test` on a GPU machine.
  use ExUnit.Case, async: true
  import Nx.Testing

  @moduletag :cuda

  @cuda {Nx.Torch.Backend, device: {:cuda, 0}}

  test "tensors live on the device and come back unchanged" do
    t = Nx.tensor([[1.5, -2.0], [3.25, 4.0]], backend: @cuda)
    assert %Nx.Torch.Backend{device: {:cuda, 0}} = t.data
    assert Nx.to_list(t) == [[1.5, -2.0], [3.25, 4.0]]
    assert Nx.Torch.memory_stats()[{:cuda, 0}].tensors >= 1
  end

  test "element-wise ops, reductions and dot agree with the CPU" do
    cpu = Nx.iota({64, 64}, type: :f32) |> Nx.divide(64)
    gpu = Nx.backend_copy(cpu, @cuda)
    assert_all_close(Nx.backend_transfer(Nx.tanh(gpu), Nx.Torch.Backend), Nx.tanh(cpu))

    assert_all_close(
      Nx.backend_transfer(Nx.sum(gpu, axes: [1]), Nx.Torch.Backend),
      Nx.sum(cpu, axes: [1])
    )

    assert_all_close(
      Nx.backend_transfer(Nx.dot(gpu, gpu), Nx.Torch.Backend),
      Nx.dot(cpu, cpu),
      rtol: 1.0e-3
    )
  end

  test "unsigned and half types keep Nx semantics on the device" do
    t = Nx.tensor([18_446_744_073_709_551_615, 1], type: :u64, backend: @cuda)
    assert Nx.to_list(Nx.reduce_max(t)) == 18_446_744_073_709_551_615
    h = Nx.tensor([1.5, 2.5], type: :f16, backend: @cuda)
    assert Nx.to_list(Nx.add(h, h)) == [3.0, 5.0]
  end

  test "mixing devices raises a clear error" do
    assert_raise ArgumentError, ~r/different devices/, fn ->
      Nx.add(Nx.iota({4}, backend: @cuda), Nx.iota({4}))
    end
  end

  test "compiled defn runs on the device" do
    f = Nx.Defn.jit(&Nx.multiply(Nx.exp(&1), 2.0), compiler: Nx.Torch)
    t = Nx.tensor([0.0, 1.0], backend: @cuda)
    assert_all_close(Nx.backend_transfer(f.(t), Nx.Torch.Backend), Nx.tensor([2.0, 5.4365635]))
  end

  test "compiled element-wise chains and softmax run as generated kernels and agree with the CPU" do
    chain = fn x -> Nx.tanh(Nx.multiply(x, 2) |> Nx.add(1)) |> Nx.multiply(Nx.sigmoid(x)) end

    softmax = fn x ->
      e = Nx.exp(Nx.subtract(x, Nx.reduce_max(x, axes: [1], keep_axes: true)))
      {Nx.divide(e, Nx.sum(e, axes: [1], keep_axes: true)), Nx.greater(x, 0)}
    end

    cpu = Nx.iota({300, 257}, type: :f32) |> Nx.sin() |> Nx.multiply(3)
    gpu = Nx.backend_copy(cpu, @cuda)
    before = Nx.Torch.info().cuda_fused_launches

    outputs = fn
      t when is_tuple(t) -> Tuple.to_list(t)
      t -> [t]
    end

    for f <- [chain, softmax] do
      want = Nx.Defn.jit(f, compiler: Nx.Torch).(cpu)
      jitted = Nx.Defn.jit(f, compiler: Nx.Torch)
      # twice: the first run is checked against LibTorch's operations, the second is not
      _ = jitted.(gpu)
      got = jitted.(gpu)

      for {g, w} <- Enum.zip(outputs.(got), outputs.(want)) do
        assert_all_close(Nx.backend_transfer(g, Nx.Torch.Backend), w, rtol: 1.0e-5)
      end
    end

    assert Nx.Torch.info().cuda_fused_launches > before
  end
end
