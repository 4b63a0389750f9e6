# CUDA tests run only where LibTorch sees a device (NX_TORCH_CUDA=1 set-up on a GPU machine).
cuda? = Nx.Torch.info().cuda_device_count > 0
ExUnit.start(exclude: if(cuda?, do: [], else: [:cuda]))
