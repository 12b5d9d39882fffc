// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/plotwidget.h"

#include "plots/plotcolors.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QContextMenuEvent>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMessageBox>
#include <QSettings>
#include <QStandardPaths>

namespace basin::ui {

namespace {
const QString kLastFolderKey = QStringLiteral("plots/lastExportFolder");

void styleAxis(QCPAxis *axis, const QColor &text, const QColor &line, const QColor &grid,
               const QColor &subGrid)
{
    axis->setBasePen(QPen(line, 1));
    axis->setTickPen(QPen(line, 1));
    axis->setSubTickPen(QPen(line, 1));
    axis->setTickLabelColor(text);
    axis->setLabelColor(text);
    axis->grid()->setPen(QPen(grid, 1, Qt::DotLine));
    axis->grid()->setSubGridPen(QPen(subGrid, 1, Qt::DotLine));
    axis->grid()->setZeroLinePen(QPen(grid, 1, Qt::SolidLine));
}
} // namespace

PlotWidget::PlotWidget(QWidget *parent) : QCustomPlot(parent)
{
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    setContextMenuPolicy(Qt::DefaultContextMenu);

    m_savePngAction = new QAction(tr("Save as PNG…"), this);
    m_savePngAction->setObjectName(QStringLiteral("savePngAction"));
    connect(m_savePngAction, &QAction::triggered, this,
            [this] { exportInteractively(Format::Png); });

    m_savePdfAction = new QAction(tr("Save as PDF…"), this);
    m_savePdfAction->setObjectName(QStringLiteral("savePdfAction"));
    connect(m_savePdfAction, &QAction::triggered, this,
            [this] { exportInteractively(Format::Pdf); });

    m_copyDataAction = new QAction(tr("Copy data"), this);
    m_copyDataAction->setObjectName(QStringLiteral("copyDataAction"));
    connect(m_copyDataAction, &QAction::triggered, this, &PlotWidget::copyData);

    m_resetViewAction = new QAction(tr("Reset view"), this);
    m_resetViewAction->setObjectName(QStringLiteral("resetViewAction"));
    connect(m_resetViewAction, &QAction::triggered, this, &PlotWidget::resetView);

    PlotWidget::applyPalette();
}

PlotWidget::~PlotWidget() = default;

bool PlotWidget::savePng(const QString &fileName, int width, int height)
{
    if (width <= 0 || height <= 0)
        return false;
    layoutFor(QSize(width, height));
    const bool ok = QCustomPlot::savePng(fileName, width, height, 1.0, -1, 96);
    // Rendering lays the plot out for the export size; put the on-screen layout back so
    // hit-testing (cellCenter, clicks) matches what the user sees.
    replot();
    return ok;
}

bool PlotWidget::savePdf(const QString &fileName, int width, int height)
{
    if (width <= 0 || height <= 0)
        return false;
    layoutFor(QSize(width, height));
    const bool ok = QCustomPlot::savePdf(fileName, width, height, QCP::epNoCosmetic,
                                         QStringLiteral("Basin"), title());
    replot();
    return ok;
}

void PlotWidget::layoutFor(const QSize &size)
{
    // Export renders lay out and draw in one pass, but tick vectors are computed before
    // the layout settles; one layout pass at the export size first lets size-dependent
    // choices (afterLayout handlers such as label thinning) see the export geometry.
    const QRect onScreen = viewport();
    setViewport(QRect(QPoint(0, 0), size));
    updateLayout();
    setViewport(onScreen);
}

QString PlotWidget::dataAsTsv() const
{
    return {};
}

void PlotWidget::resetView()
{
    rescaleAxes();
    replot();
}

void PlotWidget::setTitle(const QString &text)
{
    if (text.isEmpty()) {
        if (m_title) {
            plotLayout()->remove(m_title);
            m_title = nullptr;
            plotLayout()->simplify();
        }
        return;
    }
    if (!m_title) {
        plotLayout()->insertRow(0);
        QFont font = this->font();
        font.setBold(true);
        m_title = new QCPTextElement(this, text, font);
        m_title->setTextColor(palette().color(QPalette::Text));
        plotLayout()->addElement(0, 0, m_title);
    } else {
        m_title->setText(text);
    }
}

void PlotWidget::placeLegendBelow(int perRow)
{
    if (legend->layout() != axisRect()->insetLayout())
        return;
    axisRect()->insetLayout()->take(legend);
    axisRect()->insetLayout()->simplify();
    // A grid cell gives its element the full width; spacers on both sides take the
    // slack so the legend keeps its natural width, centred. (Plain layout elements:
    // an empty QCPLayoutGrid reports a maximum width of 0 and would squeeze the column.)
    auto *row = new QCPLayoutGrid;
    plotLayout()->addElement(plotLayout()->rowCount(), 0, row);
    row->setMargins(QMargins(0, 0, 0, 4));
    row->addElement(0, 0, new QCPLayoutElement(this));
    row->addElement(0, 1, legend);
    row->addElement(0, 2, new QCPLayoutElement(this));
    row->setColumnStretchFactors({1.0, 0.001, 1.0});
    legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    legend->setWrap(perRow);
    plotLayout()->setRowStretchFactor(plotLayout()->rowCount() - 1, 0.001);
}

QString PlotWidget::title() const
{
    return m_title ? m_title->text() : QString();
}

QString PlotWidget::exportName() const
{
    if (!m_exportName.isEmpty())
        return m_exportName;
    if (!title().isEmpty())
        return title();
    return QStringLiteral("plot");
}

QList<QAction *> PlotWidget::contextMenuActions() const
{
    return {m_savePngAction, m_savePdfAction, m_copyDataAction, m_resetViewAction};
}

QString PlotWidget::lastExportFolder()
{
    return QSettings().value(kLastFolderKey).toString();
}

void PlotWidget::applyPalette()
{
    const QPalette pal = palette();
    const QColor background = pal.color(QPalette::Base);
    const QColor text = pal.color(QPalette::Text);
    const QColor line = plotcolors::blend(background, text, 0.7);
    const QColor grid = plotcolors::blend(background, text, 0.18);
    const QColor subGrid = plotcolors::blend(background, text, 0.08);

    setBackground(QBrush(background));
    const QList<QCPLayoutElement *> elements = plotLayout()->elements(true);
    for (QCPLayoutElement *element : elements) {
        if (auto *rect = qobject_cast<QCPAxisRect *>(element)) {
            const QList<QCPAxis *> axes = rect->axes();
            for (QCPAxis *axis : axes)
                styleAxis(axis, text, line, grid, subGrid);
        } else if (auto *scale = qobject_cast<QCPColorScale *>(element)) {
            styleAxis(scale->axis(), text, line, grid, subGrid);
        } else if (auto *legend = qobject_cast<QCPLegend *>(element)) {
            QColor fill = background;
            fill.setAlpha(220);
            legend->setBrush(QBrush(fill));
            legend->setBorderPen(QPen(grid, 1));
            legend->setTextColor(text);
        } else if (auto *label = qobject_cast<QCPTextElement *>(element)) {
            label->setTextColor(text);
        }
    }
}

void PlotWidget::changeEvent(QEvent *event)
{
    QCustomPlot::changeEvent(event);
    if (event->type() == QEvent::PaletteChange ||
        event->type() == QEvent::ApplicationPaletteChange) {
        applyPalette();
        replot(QCustomPlot::rpQueuedReplot);
    }
}

void PlotWidget::contextMenuEvent(QContextMenuEvent *event)
{
    m_copyDataAction->setEnabled(!dataAsTsv().isEmpty());
    QMenu menu(this);
    menu.addActions(contextMenuActions());
    menu.insertSeparator(m_copyDataAction);
    menu.exec(event->globalPos());
    event->accept();
}

void PlotWidget::exportInteractively(Format format)
{
    const bool png = format == Format::Png;
    const QString suffix = png ? QStringLiteral(".png") : QStringLiteral(".pdf");
    const QString caption = png ? tr("Save plot as PNG") : tr("Save plot as PDF");
    const QString filter = png ? tr("PNG images (*.png)") : tr("PDF documents (*.pdf)");

    QString folder = lastExportFolder();
    if (folder.isEmpty() || !QFileInfo(folder).isDir())
        folder = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    QString baseName = exportName();
    baseName.replace(QLatin1Char('/'), QLatin1Char('_'));
    const QString suggested = QDir(folder).filePath(baseName + suffix);

    QString fileName = m_fileChooser
                           ? m_fileChooser(caption, suggested, filter)
                           : QFileDialog::getSaveFileName(this, caption, suggested, filter);
    if (fileName.isEmpty())
        return;
    if (!fileName.endsWith(suffix, Qt::CaseInsensitive))
        fileName += suffix;
    QSettings().setValue(kLastFolderKey, QFileInfo(fileName).absolutePath());

    // Interactive PNGs are rendered at twice the widget size so they stay sharp in slides
    // and on high-density screens.
    bool ok = false;
    if (png) {
        layoutFor(size());
        ok = QCustomPlot::savePng(fileName, width(), height(), 2.0, -1, 192);
        replot();
    } else {
        ok = savePdf(fileName, width(), height());
    }
    emit exported(fileName, ok);
    if (!ok) {
        auto *box =
            new QMessageBox(QMessageBox::Warning, tr("Export failed"),
                            tr("Could not write %1.").arg(QDir::toNativeSeparators(fileName)),
                            QMessageBox::Ok, this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
    }
}

void PlotWidget::copyData()
{
    const QString text = dataAsTsv();
    if (!text.isEmpty())
        QGuiApplication::clipboard()->setText(text);
}

} // namespace basin::ui
