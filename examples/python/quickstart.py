import descent
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
model = descent.Regressor(optimizer="adam", lr=0.05, epochs=100, seed=0)
model.fit(X_train, y_train)
print(f"R^2 on held-out rows: {model.score(X_test, y_test):.3f}")
print("epochs:", model.n_iter_, "final loss:", round(model.history_["loss"][-1], 1))
