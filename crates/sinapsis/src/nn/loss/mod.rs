//! Loss functions (`torch.nn.functional` losses and `torch.nn` loss modules).
