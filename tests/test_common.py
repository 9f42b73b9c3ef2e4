"""scikit-learn's estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_mcdropout import MCDropoutClassifier, MCDropoutRegressor


def _small_regressor(**params):
    return MCDropoutRegressor(
        hidden_layer_sizes=(32,), max_epochs=30, n_passes=10, random_state=0, **params
    )


def _small_classifier(**params):
    return MCDropoutClassifier(
        hidden_layer_sizes=(32,), max_epochs=30, n_passes=10, random_state=0, **params
    )


@parametrize_with_checks(
    [
        _small_regressor(),
        _small_regressor(noise="heteroscedastic"),
        _small_regressor(dropout="concrete"),
        _small_regressor(dropout="concrete", noise="heteroscedastic"),
        _small_classifier(),
        _small_classifier(dropout="concrete"),
        _small_regressor(n_members=3),
        _small_classifier(n_members=3),
    ],
    expected_failed_checks=lambda est: {},
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
