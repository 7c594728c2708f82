//! TensorBoard event files (`torch.utils.tensorboard.SummaryWriter`).
