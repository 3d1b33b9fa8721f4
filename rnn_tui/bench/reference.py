"""The loop a user would otherwise write, as in notes 004: a per-item Dataset, a DataLoader with
shuffling, a torch module, Adam and MSELoss, and a validation pass each epoch. Used as the baseline."""

from __future__ import annotations

import time

import torch
from torch import nn


class WindowDataset(torch.utils.data.Dataset):
    """Notes 004's SineDataset, for any (T, D) series: item i is (series[i:i+L], series[i+L])."""

    def __init__(self, data: torch.Tensor, seq_len: int):
        self.data, self.seq_len = data, seq_len

    def __len__(self):
        return len(self.data) - self.seq_len

    def __getitem__(self, idx):
        return self.data[idx : idx + self.seq_len], self.data[idx + self.seq_len]


class NotesModel(nn.Module):
    """Notes 004's RNNModel: a torch recurrent layer and a linear layer on the last output."""

    def __init__(self, kind: str, input_size: int, hidden_size: int):
        super().__init__()
        layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
        self.rnn = layer(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, input_size)

    def forward(self, x):
        out, _ = self.rnn(x)  # (batch, seq_len, hidden)
        return self.fc(out[:, -1, :])


def run_reference(model: nn.Module, train: torch.Tensor, val: torch.Tensor, seq_len: int, batch_size: int,
                  lr: float, epochs: int, on_epoch=None, time_budget_s: float | None = None, seed: int = 0) -> dict:
    """Train as the notes do. Returns steps, seconds and the per-epoch validation MSE (data units).

    `on_epoch(epoch, val_mse, elapsed_s)` may return True to stop early (time to accuracy).
    """
    torch.manual_seed(seed)
    train_loader = torch.utils.data.DataLoader(WindowDataset(train, seq_len), batch_size=batch_size, shuffle=True)
    val_loader = torch.utils.data.DataLoader(WindowDataset(val, seq_len), batch_size=batch_size, shuffle=False)
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps, history = 0, []
    t0 = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        for x_batch, y_batch in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(x_batch), y_batch)
            loss.backward()
            optimizer.step()
            steps += 1
        model.eval()
        total, n = 0.0, 0
        with torch.no_grad():
            for x_val, y_val in val_loader:
                total += criterion(model(x_val), y_val).item()
                n += 1
        elapsed = time.perf_counter() - t0
        val_mse = total / max(n, 1)
        history.append(val_mse)
        if on_epoch is not None and on_epoch(epoch + 1, val_mse, elapsed):
            break
        if time_budget_s is not None and elapsed > time_budget_s:
            break
    seconds = time.perf_counter() - t0
    return {"steps": steps, "seconds": seconds, "val_mse": history, "samples": steps * batch_size}
